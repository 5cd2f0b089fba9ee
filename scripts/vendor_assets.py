#!/usr/bin/env python3
"""Rebuild ``webmap/static/vendor/`` from exact npm package versions.

The web map must work fully offline, so every front-end library is served
from the app's own static files.  This script is the single source of truth
for what is vendored:

* each package is fetched with ``npm pack <name>@<version>`` (npm registry
  only) into a temporary directory, and the tarball's ``integrity`` is checked
  against the value pinned below;
* only the needed ``dist`` files are copied (byte for byte, unmodified), plus
  the package's licence file, into ``webmap/static/vendor/<name>/``;
* licences of third-party code *bundled inside* a vendored file are collected
  into ``THIRD-PARTY-LICENSES.txt`` next to it;
* ``VENDORED.json`` and ``README.md`` list package, version, licence (SPDX,
  from ``package.json``), files, size and sha256 of every file.

The output is deterministic (no timestamps, sorted keys), so running the
script twice gives identical bytes.

Usage::

    python scripts/vendor_assets.py           # rebuild (needs npm + registry)
    python scripts/vendor_assets.py --check   # offline: verify files vs VENDORED.json

To upgrade a package: change ``version`` and ``integrity`` below (take the
integrity from ``npm view <name>@<version> dist.integrity``), re-run, review
the diff.  Stay on Leaflet 1.9.x: Leaflet 2 breaks the plugins used here.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "webmap" / "static" / "vendor"

# Licence text of Leaflet.draw: the npm tarball ships no licence file, so the
# text of MIT-LICENSE.md from github.com/Leaflet/Leaflet.draw is reproduced.
LEAFLET_DRAW_MIT = """\
Copyright 2012-2016 Jacob Toye and Leaflet

Permission is hereby granted, free of charge, to any person obtaining
a copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to
the following conditions:

The above copyright notice and this permission notice shall be
included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

# Each entry:
#   files:    {path in package tarball (below "package/"): path below vendor/<name>/}
#   license:  ("file", "<path in tarball>")             copy the package's own file
#             ("readme-section", "<path>", "<marker>")   licence only in the README:
#                                                        the block between the
#                                                        ----- rules that holds marker
#             ("text", "<text>")                         no licence file shipped
#   bundled:  npm packages compiled into the vendored file; their licence
#             files go to THIRD-PARTY-LICENSES.txt
PACKAGES: list[dict] = [
    {
        "name": "leaflet",
        "version": "1.9.4",
        "integrity": "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        "files": {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            # leaflet.css refers to url(images/...) relative to itself, and
            # L.Icon.Default derives its imagePath from that CSS url.
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
        },
        "license": ("file", "LICENSE"),
        "bundled": [],
        "notes": "Leaflet 1.9.x (not 2.x: the plugins below need the 1.x API).",
    },
    {
        "name": "leaflet.vectorgrid",
        "version": "1.3.0",
        "integrity": "sha512-kWmj1pKM+MVdo/7Mg5zsB3YrGZvo/uIuiANV9MvWUFOG+Y2xAJzrteDhoIcCgTjHSSRJ36xdeGdIQVhuWjnCZw==",
        "files": {
            "dist/Leaflet.VectorGrid.bundled.min.js": "Leaflet.VectorGrid.bundled.min.js",
        },
        "license": ("readme-section", "README.md", "BEER-WARE"),
        # Bundle contents per the build's source map (pbf, vector-tile,
        # point-geometry, ieee754, whatwg-fetch) plus the Slicer web worker
        # (geojson-vt =2.2.0, topojson-client).  The exact versions bundled in
        # 2017 are not recorded upstream; these are versions matching the
        # package.json ranges, used only for their licence texts.
        "bundled": [
            ("pbf", "3.0.5", "sha512-L22c/RfkjapvB7RfUoFTSQp39hs+1/Eixcc2Ysgl9uWgOeEWvQfdvyL/oi8LTh3lRcnh3rN1NEFM/KSGdqRpZg=="),
            ("ieee754", "1.1.8", "sha512-/aoyv2Nt7mGLnCAWzE0C1WH9Xd8ZsqR0f4Pjwxputi1JNm01+InyAYQotF4N+ulEIjbEsJo22NOHr+U/XEZ1Pw=="),
            ("vector-tile", "1.3.0", "sha512-ECpYpDhbgTSGIRwaf4bLbiDHcUHDM+LGrBOmV1tdG+Lde8vajJtywP5vGFmMj0Z3cApTV0+9sLWgBCVsRuoAKQ=="),
            ("point-geometry", "0.0.0", "sha512-tXK8bY2l3/CPkyO7+UbOWbVjCpKoYY4t6uY3AYYy4Bagd4Z942gLeQOgtHICwBwgPf8dI6fw4VqKwzSNgvlw4A=="),
            ("whatwg-fetch", "2.0.3", "sha512-SA2KdOXATOroD3EBUYvcdugsusXS5YiQFqwskSbsp5b1gK8HpNi/YP0jcy/BDpdllp305HMnrsVf9K7Be9GiEQ=="),
            ("geojson-vt", "2.2.0", "sha512-mPANq0QJchU6tUxI4Lm/nE1jXLK9Mnojlw4BYojEZwuPrA5b25dS1gGrQmKV+r+jyeBN/j4/yZ0vFzyySNHtAg=="),
            ("topojson-client", "2.1.0", "sha512-mxXNa6imbsrWXqUKF7iwGl2TkrshZ7dwQF+KuAB4hX9wTmfecNzqSjMmQZNhP2Ztvfwx8rKt0BfQfHF+ki6hQw=="),
        ],
        "notes": (
            "Works with Leaflet 1.9 with one caveat: with rendererFactory "
            "L.canvas.tile and interactive:true, a click calls "
            "L.DomEvent.fakeStop, removed in Leaflet 1.8 (upstream issue #274, "
            "fixed on master but unreleased). Use the default SVG renderer, or "
            "shim `L.DomEvent.fakeStop = L.DomEvent.fakeStop || L.DomEvent.stop;` "
            "before use. L.vectorGrid.slicer runs in a Web Worker created from "
            "a blob: URL (a CSP needs worker-src blob:)."
        ),
    },
    {
        "name": "leaflet-draw",
        "version": "1.0.4",
        "integrity": "sha512-rsQ6saQO5ST5Aj6XRFylr5zvarWgzWnrg46zQ1MEOEIHsppdC/8hnN8qMoFvACsPvTioAuysya/TVtog15tyAQ==",
        "files": {
            "dist/leaflet.draw.js": "leaflet.draw.js",
            "dist/leaflet.draw.css": "leaflet.draw.css",
            # leaflet.draw.css refers to url('images/spritesheet*.{png,svg}');
            # the other dist/images/* are copies of Leaflet's own images.
            "dist/images/spritesheet.png": "images/spritesheet.png",
            "dist/images/spritesheet-2x.png": "images/spritesheet-2x.png",
            "dist/images/spritesheet.svg": "images/spritesheet.svg",
        },
        "license": ("text", LEAFLET_DRAW_MIT),
        "bundled": [],
        "notes": (
            "No licence file in the npm package; LICENSE reproduces upstream "
            "MIT-LICENSE.md. leaflet.draw.js assigns an undeclared `type` "
            "variable in L.GeometryUtil.readableArea (rectangle/area tooltips): "
            "fine as a classic <script> (sloppy mode, leaks window.type), "
            "throws ReferenceError if the file is evaluated in strict mode / "
            "as an ES module (upstream issue #1026)."
        ),
    },
    {
        "name": "chart.js",
        "version": "4.6.1",
        "integrity": "sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g==",
        "files": {
            # UMD build for a plain <script>: defines the global `Chart`.
            "dist/chart.umd.js": "chart.umd.js",
        },
        "license": ("file", "LICENSE.md"),
        "bundled": [
            ("@kurkle/color", "0.3.2", "sha512-fuscdXJ9G1qb7W8VdHi+IwRqij3lBkosAm4ydQtEmbY58OzHXqQhvlxqEkoz0yssNVn38bcpRWgA9PP+OGoisw=="),
        ],
        "notes": "chart.umd.js is already minified (same content as chart.umd.min.js).",
    },
    {
        "name": "swagger-ui-dist",
        "version": "5.35.0",
        "integrity": "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        "files": {
            # The bundle defines the global SwaggerUIBundle (the API docs page, /api/docs).
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            # Apache-2.0 asks for the NOTICE to travel with the work; the bundle's own
            # licence notices (React, Immutable, DOMPurify, ...) as the package ships them.
            "NOTICE": "NOTICE",
            "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
        },
        "license": ("file", "LICENSE"),
        "bundled": [],
        "notes": (
            "The API documentation page (/api/docs) only. Licences of the code bundled into "
            "swagger-ui-bundle.js are in swagger-ui-bundle.js.LICENSE.txt, as the package ships "
            "them. The page's init code is a static file (js/api_docs.js): no inline script. "
            "The package's @scarf/scarf dependency (install analytics) is never installed: the "
            "files are read from the tarball, scripts ignored."
        ),
    },
]

LICENSE_CANDIDATES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md",
                      "LICENSE-MIT", "COPYING")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_pack(spec: str, integrity: str, workdir: Path) -> tarfile.TarFile:
    """npm pack ``spec`` into ``workdir``; check integrity; return the open tarball."""
    proc = subprocess.run(
        ["npm", "pack", spec, "--json", "--ignore-scripts", "--pack-destination", str(workdir)],
        cwd=workdir, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"npm pack {spec} failed:\n{proc.stderr}")
    info = json.loads(proc.stdout)[0]
    if info["integrity"] != integrity:
        sys.exit(f"{spec}: integrity mismatch\n  pinned: {integrity}\n  got:    {info['integrity']}")
    tgz = workdir / info["filename"]
    # Verify the bytes ourselves too (npm's integrity is sha512 of the tarball).
    algo, b64 = integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
    if digest != b64:
        sys.exit(f"{spec}: tarball {tgz.name} does not match its integrity")
    return tarfile.open(tgz, "r:gz")


def read_member(tar: tarfile.TarFile, path: str) -> bytes:
    """Read ``package/<path>`` (never extracts to disk, so no path traversal)."""
    try:
        member = tar.getmember(f"package/{path}")
    except KeyError:
        sys.exit(f"{tar.name}: missing package/{path}")
    if not member.isfile():
        sys.exit(f"{tar.name}: package/{path} is not a regular file")
    f = tar.extractfile(member)
    assert f is not None
    return f.read()


def package_license_file(tar: tarfile.TarFile) -> tuple[str, bytes] | None:
    names = set(tar.getnames())
    for name in LICENSE_CANDIDATES:
        if f"package/{name}" in names:
            return name, read_member(tar, name)
    return None


def readme_section(text: str, marker: str) -> str:
    """Return the block between two lines of dashes that contains ``marker``."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line.strip() and set(line.strip()) == {"-"}
             and len(line.strip()) >= 20]
    for a, b in itertools.pairwise(rules):
        block = "\n".join(lines[a + 1:b]).strip("\n")
        if marker in block:
            return block + "\n"
    sys.exit(f"licence section with {marker!r} not found in README")


def spdx(pkg_json: dict) -> str:
    lic = pkg_json.get("license")
    if isinstance(lic, dict):
        lic = lic.get("type")
    if not lic and pkg_json.get("licenses"):
        lic = " OR ".join(str(x.get("type")) for x in pkg_json["licenses"])
    return str(lic or "UNKNOWN")


def build(out_dir: Path) -> dict:
    manifest: dict = {
        "generator": "scripts/vendor_assets.py",
        "packages": [],
    }
    with tempfile.TemporaryDirectory(prefix="vendor-assets-") as tmp:
        tmp_path = Path(tmp)
        for pkg in PACKAGES:
            name, version = pkg["name"], pkg["version"]
            dest = out_dir / name
            tar = npm_pack(f"{name}@{version}", pkg["integrity"], tmp_path)
            pkg_json = json.loads(read_member(tar, "package.json"))
            if pkg_json.get("version") != version:
                sys.exit(f"{name}: package.json says {pkg_json.get('version')}, expected {version}")
            outputs: dict[str, bytes] = {}
            for src, rel in pkg["files"].items():
                outputs[rel] = read_member(tar, src)

            kind = pkg["license"][0]
            if kind == "file":
                lic_name = pkg["license"][1]
                outputs[lic_name] = read_member(tar, lic_name)
            elif kind == "readme-section":
                text = read_member(tar, pkg["license"][1]).decode("utf-8")
                outputs["LICENSE"] = (
                    f"{name} {version} licence, as stated in the package's "
                    f"{pkg['license'][1]} (package.json: {spdx(pkg_json)}):\n\n"
                    + readme_section(text, pkg["license"][2])
                ).encode()
            elif kind == "text":
                outputs["LICENSE"] = pkg["license"][1].encode()
            else:  # pragma: no cover
                sys.exit(f"unknown licence kind {kind}")
            tar.close()

            bundled_meta = []
            if pkg["bundled"]:
                parts = [
                    f"Third-party code bundled into the vendored {name} {version} files.\n"
                    f"Licence texts taken from the npm packages listed.\n"
                ]
                for bname, bver, bint in pkg["bundled"]:
                    btar = npm_pack(f"{bname}@{bver}", bint, tmp_path)
                    bjson = json.loads(read_member(btar, "package.json"))
                    found = package_license_file(btar)
                    btar.close()
                    bspdx = spdx(bjson)
                    bundled_meta.append({"name": bname, "version": bver, "license": bspdx,
                                         "license_file": found[0] if found else None})
                    header = f"{'=' * 72}\n{bname} {bver} ({bspdx})\n{'=' * 72}\n"
                    if found:
                        body = found[1].decode("utf-8").replace("\r\n", "\n").rstrip("\n") + "\n"
                    else:
                        body = (f"The npm package ships no licence file; package.json "
                                f"declares licence {bspdx!r}"
                                + (f" (author: {bjson['author']})" if bjson.get("author") else "")
                                + ".\n")
                    parts.append("\n" + header + body)
                outputs["THIRD-PARTY-LICENSES.txt"] = "".join(parts).encode()

            files_meta = []
            for rel in sorted(outputs):
                data = outputs[rel]
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                os.chmod(target, 0o644)
                files_meta.append({"path": f"{name}/{rel}", "size": len(data), "sha256": sha256(data)})

            manifest["packages"].append({
                "name": name,
                "version": version,
                "license": spdx(pkg_json),
                "npm_integrity": pkg["integrity"],
                "homepage": pkg_json.get("homepage"),
                "files": files_meta,
                "bundled": bundled_meta,
                "notes": pkg["notes"],
            })
    manifest["total_size"] = sum(f["size"] for p in manifest["packages"] for f in p["files"])
    return manifest


def human(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"


def render_readme(manifest: dict) -> str:
    out = [
        "# Vendored front-end libraries",
        "",
        "Generated by `scripts/vendor_assets.py` - do not edit by hand.",
        "The web map runs fully offline: these files are served from the app's",
        "static folder; no CDN is used. Files are copied unmodified from the npm",
        "packages (tarball integrity pinned in the script).",
        "",
        "Rebuild (needs `npm` and access to the npm registry):",
        "",
        "    python scripts/vendor_assets.py",
        "",
        "Verify the files against `VENDORED.json` (offline):",
        "",
        "    python scripts/vendor_assets.py --check",
        "",
        "| Package | Version | Licence | Files | Size |",
        "|---|---|---|---|---|",
    ]
    for p in manifest["packages"]:
        size = sum(f["size"] for f in p["files"])
        out.append(f"| `{p['name']}` | {p['version']} | {p['license']} | {len(p['files'])} | {human(size)} |")
    out += ["", f"Total: {human(manifest['total_size'])}.", ""]
    for p in manifest["packages"]:
        out += [f"## {p['name']} {p['version']} ({p['license']})", ""]
        if p.get("homepage"):
            out += [f"Homepage: {p['homepage']}", ""]
        out += [p["notes"], ""]
        if p["bundled"]:
            out.append("Bundled third-party code (licences in `THIRD-PARTY-LICENSES.txt`): "
                       + ", ".join(f"{b['name']} {b['version']} ({b['license']})" for b in p["bundled"])
                       + ".")
            out.append("")
        out += ["| File | Size | sha256 |", "|---|---|---|"]
        for f in p["files"]:
            out.append(f"| `{f['path']}` | {f['size']} | `{f['sha256']}` |")
        out.append("")
    return "\n".join(out)


def write_manifest(out_dir: Path, manifest: dict) -> None:
    (out_dir / "VENDORED.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (out_dir / "README.md").write_text(render_readme(manifest))


def check(vendor_dir: Path) -> int:
    """Verify vendored files against VENDORED.json; report unlisted files."""
    manifest_path = vendor_dir / "VENDORED.json"
    if not manifest_path.exists():
        print(f"missing {manifest_path}", file=sys.stderr)
        return 1
    manifest = json.loads(manifest_path.read_text())
    errors = []
    listed = {"VENDORED.json", "README.md"}
    for p in manifest["packages"]:
        for f in p["files"]:
            listed.add(f["path"])
            path = vendor_dir / f["path"]
            if not path.is_file():
                errors.append(f"missing: {f['path']}")
            elif sha256(path.read_bytes()) != f["sha256"]:
                errors.append(f"sha256 mismatch: {f['path']}")
    for path in sorted(vendor_dir.rglob("*")):
        if path.is_file() and path.relative_to(vendor_dir).as_posix() not in listed:
            errors.append(f"unlisted file: {path.relative_to(vendor_dir).as_posix()}")
    expected = {(p["name"], p["version"]) for p in PACKAGES}
    actual = {(p["name"], p["version"]) for p in manifest["packages"]}
    if expected != actual:
        errors.append(f"VENDORED.json packages {sorted(actual)} != script {sorted(expected)}")
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"OK: {sum(len(p['files']) for p in manifest['packages'])} files, "
              f"{human(manifest['total_size'])}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="only verify existing files against VENDORED.json (no network)")
    ap.add_argument("--out", type=Path, default=VENDOR_DIR, help="vendor directory (default: %(default)s)")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    if args.check:
        return check(out)
    if shutil.which("npm") is None:
        sys.exit("npm not found")
    # Build into a sibling temp dir, then swap, so a failed run leaves the
    # existing vendor directory untouched and stale files never survive.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vendor-staging-", dir=out.parent))
    try:
        manifest = build(staging)
        write_manifest(staging, manifest)
        os.chmod(staging, 0o755)
        for d in staging.rglob("*"):
            if d.is_dir():
                os.chmod(d, 0o755)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    print(f"vendored {len(manifest['packages'])} packages, "
          f"{sum(len(p['files']) for p in manifest['packages'])} files, "
          f"{human(manifest['total_size'])} -> {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return check(out)


if __name__ == "__main__":
    sys.exit(main())
