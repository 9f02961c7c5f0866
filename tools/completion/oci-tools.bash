# bash completion for oci-inspect, oci-unpack, oci-diff, oci-commit and
# oci-runtime (oci-copy has its own file). Installed once per command, as
# bash-completion looks for a file named after the command.
#
# The options come from the tool's own --help, read when TAB is pressed, so
# that the completion never lists an option the tool does not have (a test
# checks that every option --help lists is accepted). Values: the words of
# "--opt a|b|c" in --help, common platforms for --platform, files for the
# rest. After "IMAGE:" (a layout directory or an archive), the image's refs,
# from oci-inspect --refs.

# _oci_tools_help TOOL: its --help, cached for this shell
_oci_tools_help() {
	local var=_oci_tools_help_${1//-/_}
	if [ -z "${!var-}" ]; then
		printf -v "$var" '%s' "$("$1" --help 2>/dev/null)"
	fi
	printf '%s\n' "${!var}"
}

# _oci_tools_refs CUR: COMPREPLY gets PATH:REF for each ref of the image
# named before a ':' of CUR (the first ':' whose left side exists, so that a
# ref may hold ':' itself, as Docker tags do)
_oci_tools_refs() {
	local cur=$1 path="" i r
	for ((i = 1; i < ${#cur}; i++)); do
		if [ "${cur:i:1}" = : ] && [ -e "${cur:0:i}" ]; then
			path=${cur:0:i}
			break
		fi
	done
	[ -n "$path" ] && [ "$path" != - ] || return 1
	while IFS=$'\t' read -r r _; do
		[ "$r" = - ] || COMPREPLY+=("$path:$r")
	done < <(oci-inspect --refs "$path" 2>/dev/null)
	return 0
}

_oci_tools() {
	local tool=${COMP_WORDS[0]##*/} cur prev help words line sub="" i
	COMPREPLY=()
	if declare -F _get_comp_words_by_ref >/dev/null; then
		# bash splits words at ':': take "PATH:REF" back as one word
		_get_comp_words_by_ref -n : cur prev
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	help=$(_oci_tools_help "$tool")

	if [ "$tool" = oci-runtime ]; then
		# the command word, and then the options its usage line names
		for ((i = 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			--root | --log | --log-format) ((i++)) ;;
			-*) ;;
			*)
				sub=${COMP_WORDS[i]}
				break
				;;
			esac
		done
		if [ -z "$sub" ] && [[ $cur != -* ]] && [[ $prev != --root && $prev != --log && $prev != --log-format ]]; then
			words=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' <<<"$help")
			mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
			return
		fi
		if [ -n "$sub" ]; then
			# its usage line and the lines that continue it
			help=$(awk -v s="$sub" '$1 == s && /^  [a-z]/ { on = 1; print; next }
				on && (/^  [a-z]/ || /^$/) { exit } on' <<<"$help")
			if [ "$sub" = list ]; then help+=$'\n--format table|json'; fi
		fi
	fi

	# the value of an option: "--opt a|b|c" in --help, platforms, or files
	if [[ $prev == -* ]]; then
		line=$(grep -oE -- "(^|[ ,\[])$prev [^ ]+" <<<"$help" | head -n1)
		if [ -n "$line" ]; then
			local arg=${line##* }
			arg=${arg%]}
			if [[ $prev == --platform ]]; then
				mapfile -t COMPREPLY < <(compgen -W "linux/amd64 linux/arm64 linux/arm64/v8 linux/arm/v7 linux/arm/v6 linux/386 linux/ppc64le linux/s390x linux/riscv64" -- "$cur")
				return
			fi
			if [[ $arg == *'|'* && $arg =~ ^[a-z0-9|]+$ ]]; then
				mapfile -t COMPREPLY < <(compgen -W "${arg//|/ }" -- "$cur")
				return
			fi
			if [[ $arg =~ ^[A-Z] ]]; then
				case $arg in
				IMAGE*) ;; # an image: files, and refs after ':'
				N* | ARGS | K=V | TEXT | T | SIG | NAME | PORT* | USER* | SIGNAL)
					return
					;;
				*)
					compopt -o filenames 2>/dev/null
					mapfile -t COMPREPLY < <(compgen -f -- "$cur")
					return
					;;
				esac
			fi
		fi
	fi

	if [[ $cur == -* ]]; then
		# every long option where --help's synopses put one (first on a line,
		# after two spaces, "[" or ", "), and the short ones that start a line
		words=$({
			grep -oE -- '(^ *|  |\[|, )--[A-Za-z][A-Za-z-]*' <<<"$help"
			grep -oE -- '^ +-[A-Za-z]\b' <<<"$help"
		} | sed 's/^[ ,[]*//' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
	fi
	[ "$tool" = oci-runtime ] && [ -n "$sub" ] && return
	if [[ $cur == *:* ]] && _oci_tools_refs "$cur"; then
		mapfile -t COMPREPLY < <(compgen -W "${COMPREPLY[*]}" -- "$cur")
		# bash replaces only the part after the last ':': give back that part
		if declare -F __ltrim_colon_completions >/dev/null; then
			__ltrim_colon_completions "$cur"
		elif [[ $COMP_WORDBREAKS == *:* ]]; then
			for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"${cur%:*}:"}; done
		fi
		return
	fi
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
complete -F _oci_tools oci-inspect oci-unpack oci-diff oci-commit oci-runtime
