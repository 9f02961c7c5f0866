#!/usr/bin/env python3
"""lib-schema.py: validate what we write against the specs' own JSON schemas.

  lib-schema.py layout DIR      oci-layout, index.json and every index, manifest
                                and config reachable from it (by media type),
                                against the image-spec's schemas
  lib-schema.py runtime FILE    a config.json against the runtime-spec's schema
  lib-schema.py check           exit 0 when the schemas and python3-jsonschema are
                                installed (Debian: golang-github-opencontainers-
                                image-spec-dev, golang-github-opencontainers-specs-dev)

One line per problem on stdout, exit 1 when any.
"""
import json
import os
import sys
import urllib.parse
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

GOCODE = "/usr/share/gocode/src/github.com/opencontainers"
IMAGE = os.environ.get("OCI_IMAGE_SPEC_SCHEMA", GOCODE + "/image-spec/schema")
RUNTIME = os.environ.get("OCI_RUNTIME_SPEC_SCHEMA", GOCODE + "/runtime-spec/schema")

SCHEMA_OF = {
    "application/vnd.oci.image.index.v1+json": "image-index-schema.json",
    "application/vnd.oci.image.manifest.v1+json": "image-manifest-schema.json",
    "application/vnd.oci.image.config.v1+json": "config-schema.json",
}


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read())


def validator(schema_dir, name):
    import jsonschema

    def local(uri):
        # the image-spec's schemas name each other by URL; the files are here
        base = os.path.basename(urllib.parse.urlparse(uri).path)
        return load(os.path.join(schema_dir, base if base.endswith(".json") else name))

    path = os.path.join(schema_dir, name)
    schema = load(path)
    resolver = jsonschema.RefResolver("file://" + path, schema,
                                      handlers={"https": local, "http": local})
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, resolver=resolver)


problems = []


def check(v, doc, what):
    for e in sorted(v.iter_errors(doc), key=lambda e: list(e.path)):
        problems.append("%s: %s: %s" % (what, "/".join(str(p) for p in e.path) or "(top)",
                                        e.message[:300]))


def layout(root):
    vs = {mt: validator(IMAGE, s) for mt, s in SCHEMA_OF.items()}
    check(validator(IMAGE, "image-layout-schema.json"), load(os.path.join(root, "oci-layout")),
          "oci-layout")
    seen = set()

    def visit(desc, doc, what):
        mt = desc.get("mediaType") if desc else "application/vnd.oci.image.index.v1+json"
        if mt not in SCHEMA_OF:
            problems.append("%s: media type %s is not an OCI document's" % (what, mt))
            return
        check(vs[mt], doc, what)
        if isinstance(doc, dict) and doc.get("mediaType") not in (None, mt):
            problems.append("%s: mediaType %s, the descriptor says %s" % (
                what, doc.get("mediaType"), mt))
        kids = []
        if mt.endswith("index.v1+json"):
            kids = doc.get("manifests", [])
        elif mt.endswith("manifest.v1+json"):
            kids = [doc.get("config", {})]
            for l in doc.get("layers", []):
                if not l.get("mediaType", "").startswith("application/vnd.oci.image.layer."):
                    problems.append("%s: layer %s: media type %s is not OCI" % (
                        what, l.get("digest"), l.get("mediaType")))
        for k in kids:
            d = k.get("digest", "")
            if d in seen:
                continue
            if k.get("mediaType") not in SCHEMA_OF:
                if what != "index.json" and mt.endswith("index.v1+json"):
                    # an index's other platforms, kept byte for byte from a
                    # parent: not ours to validate, and no OCI schema fits
                    print("note: %s: %s: %s not validated" % (what, d, k.get("mediaType")),
                          file=sys.stderr)
                else:
                    problems.append("%s: %s: media type %s is not an OCI document's" % (
                        what, d, k.get("mediaType")))
                continue
            seen.add(d)
            algo, _, hexd = d.partition(":")
            try:
                child = load(os.path.join(root, "blobs", algo, hexd))
            except (OSError, ValueError) as e:
                problems.append("%s: %s: %s" % (what, d, e))
                continue
            visit(k, child, d)

    visit(None, load(os.path.join(root, "index.json")), "index.json")


def main(argv):
    if len(argv) == 2 and argv[1] == "check":
        try:
            import jsonschema  # noqa: F401
        except ImportError:
            sys.exit(1)
        ok = all(os.path.exists(os.path.join(IMAGE, s)) for s in SCHEMA_OF.values())
        sys.exit(0 if ok and os.path.exists(os.path.join(RUNTIME, "config-schema.json")) else 1)
    if len(argv) == 3 and argv[1] == "layout":
        layout(argv[2])
    elif len(argv) == 3 and argv[1] == "runtime":
        check(validator(RUNTIME, "config-schema.json"), load(argv[2]), argv[2])
    else:
        sys.exit(__doc__)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main(sys.argv)
