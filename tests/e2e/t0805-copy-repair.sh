#!/usr/bin/env bash
# oci-inspect --repair -o PATH of an archive writes an archive of the same
# kind when PATH names one (through oci-copy's writer), a layout otherwise;
# nothing is left beside it.
. "$(dirname "$0")/test-lib.sh"
cd "$TMP" || exit 1
# an oci-archive without its oci-layout file: --repair recreates it
python3 - "$TD/multi.tar" nolayout.tar <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t, tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        if m.name.lstrip("./") != "oci-layout":
            o.addfile(m, t.extractfile(m) if m.isfile() else None)
PY
expect 0 "--repair -o FILE.tar of an oci-archive" oci-inspect --repair nolayout.tar -o fixed.tar
[ -f fixed.tar ] && pass "an archive was written" || fail "an archive was written"
tar tf fixed.tar | grep -qx oci-layout && pass "it has its oci-layout back" || fail "it has its oci-layout back"
tar tf fixed.tar | grep -qx manifest.json && fail "an oci-archive, not a docker one" || pass "an oci-archive, not a docker one"
expect 0 "the repaired archive verifies" oci-inspect --verify fixed.tar
is "$(oci-inspect --refs fixed.tar | cut -f1,2)" "$(oci-inspect --refs "$TD/multi" | cut -f1,2)" "the same refs and digests"
is "$(ls -A | grep -c repair)" 0 "no working layout left beside it"
expect 0 "--repair -o FILE.tar of a docker-archive" oci-inspect --repair "$TD/docker-save.tar" -o fixed.docker.tar
tar tf fixed.docker.tar | grep -qx manifest.json && pass "a docker-archive again (manifest.json)" || fail "a docker-archive again"
expect 0 "the repaired docker-archive verifies" oci-inspect --verify fixed.docker.tar
if command -v skopeo >/dev/null; then
	skopeo inspect docker-archive:fixed.docker.tar >/dev/null 2>sk.err && pass "skopeo reads it as a docker-archive" || fail "skopeo reads it" "$(cat sk.err)"
fi
expect 0 "--repair -o DIR still writes a layout" oci-inspect --repair nolayout.tar -o fixeddir
[ -d fixeddir ] && [ -f fixeddir/index.json ] && pass "a layout directory" || fail "a layout directory"
done_testing
