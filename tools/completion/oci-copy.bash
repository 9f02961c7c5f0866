# bash completion for oci-copy(1): options, their values, and for SRC and
# DEST the files and directories, with the refs of a layout after "PATH:".
_oci_copy_refs() {
	# the refs of the layout named before the last ':' of cur
	local path=${cur%:*} refs
	[ -f "$path/index.json" ] || return 1
	refs=$(sed -n 's/.*"org\.opencontainers\.image\.ref\.name" *: *"\([^"]*\)".*/\1/p' \
		<(tr '{' '\n' <"$path/index.json") 2>/dev/null)
	local r
	for r in $refs; do COMPREPLY+=("$path:$r"); done
	return 0
}

_oci_copy() {
	local cur prev
	COMPREPLY=()
	if declare -F _get_comp_words_by_ref >/dev/null; then
		# bash splits words at ':': take "PATH:REF" back as one word
		_get_comp_words_by_ref -n : cur prev
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	case $prev in
	--format)
		mapfile -t COMPREPLY < <(compgen -W "oci oci-archive docker-archive" -- "$cur")
		return
		;;
	--compression)
		mapfile -t COMPREPLY < <(compgen -W "gzip zstd none" -- "$cur")
		return
		;;
	--platform)
		mapfile -t COMPREPLY < <(compgen -W "linux/amd64 linux/arm64 linux/arm64/v8 linux/arm/v7 linux/386 linux/ppc64le linux/s390x linux/riscv64" -- "$cur")
		return
		;;
	--level)
		mapfile -t COMPREPLY < <(compgen -W "1 3 6 9 12 19" -- "$cur")
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "--format --all --platform --compression --level --delete --json --progress --quiet --help --version" -- "$cur")
		return
	fi
	if [[ $cur == *:* ]] && _oci_copy_refs; then
		mapfile -t COMPREPLY < <(compgen -W "${COMPREPLY[*]}" -- "$cur")
		# bash replaces only the part after the last ':': give back that part
		if declare -F __ltrim_colon_completions >/dev/null; then
			__ltrim_colon_completions "$cur"
		elif [[ $COMP_WORDBREAKS == *:* ]]; then
			local i
			for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"${cur%:*}:"}; done
		fi
		return
	fi
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
complete -F _oci_copy oci-copy
