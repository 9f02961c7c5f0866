# lib-runtime.sh: sourced (after test-lib.sh) by the oci-runtime tests: root
# only, a state root in $TMP, containers deleted at exit, and a busybox image
# made here from Debian's busybox-static (L:bb), with bundle/wait_status.
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP oci-runtime tests need root"; exit 0; }
RT=$TMP/state
rtc() { oci-runtime --root "$RT" "$@"; }
cleanup() {
	for id in $(oci-runtime --root "$RT" list -q 2>/dev/null); do
		oci-runtime --root "$RT" delete --force "$id" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -x /bin/busybox ] || apt-get install -y -qq busybox-static >/dev/null 2>&1
[ -x /bin/busybox ] || { echo "Bail out! no /bin/busybox (busybox-static)"; exit 1; }
mkimage() {
	local R=$TMP/bbroot
	mkdir -p "$R/bin" "$R/etc" "$R/home/u"
	cp /bin/busybox "$R/bin/busybox"
	for l in sh echo cat ls id hostname sleep ps mount true false env pwd grep wc kill \
		test tty stat readlink touch rm mkdir printf head sed tr; do
		ln -s busybox "$R/bin/$l"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000:u:/home/u:/bin/sh\n' >"$R/etc/passwd"
	printf 'root:x:0:\nu:x:1000:\nextra:x:2000:u\n' >"$R/etc/group"
	chown 1000:1000 "$R/home/u"
	oci-commit -q "$R" "$TMP/L:bb" >/dev/null || { echo "Bail out! oci-commit failed"; exit 1; }
}
bundle() { # bundle NAME [JQ]: a fresh bundle in $B
	B=$TMP/$1
	rm -rf "$B"
	oci-unpack -q "$TMP/L:bb" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
	if [ $# -gt 1 ]; then
		jq "$2" "$B/config.json" >"$B/c.json" && mv "$B/c.json" "$B/config.json"
	fi
}
wait_status() { # wait_status ID STATUS: up to 5 s
	for _ in $(seq 50); do
		[ "$(rtc state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
mkimage
