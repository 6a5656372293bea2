"""The third-party images that deploy/ runs, and whether each is pinned by digest.

    python -m ecoach_dev.images                    each image, pinned or not (exit 0)
    python -m ecoach_dev.images --require-digests  exit 1 while one is not pinned by digest

An image is named in three places: the Dockerfile's base (`ARG PYTHON_IMAGE=`, or a `FROM`
naming an image), Compose's services (`image:`, ecoach's own image left out: it is built from
the Dockerfile) and the Kubernetes base (the RabbitmqCluster's `spec.image`, any container's
`image:` but ecoach's). Each must carry an exact version tag (`python:3.11.14-slim-bookworm`,
never `latest` nor a moving `3.11-slim`); pinned means `<name>:<tag>@sha256:<64 hex>`.

No image registry can be reached from the machines where ecoach is developed and tested, so
the digests are not pinned in the repository: whoever releases does it where a registry can be
reached (docs/operations/deploy.md, "Pinning the images"), and a release pipeline runs this
with `--require-digests`. tests/unit/test_deploy_image.py checks every reference's tag and that
the unpinned ones are those the docs name.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# ecoach's own image: built from deploy/Dockerfile (Compose) or named by kustomize's `images:`.
OWN_IMAGES = re.compile(r"^(\$\{ECOACH_IMAGE[^}]*\}|ecoach)$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# A tag naming one release, then an optional variant: major.minor.patch, or major.minor for
# the images whose releases have two numbers (PostgreSQL's 17.6); `3.11-slim` moves.
EXACT_TAG = re.compile(r"^(?P<name>[a-z0-9./-]+):(?P<version>\d+(\.\d+)+)(-[a-z0-9.-]+)?$")
VERSION_PARTS = {"postgres": 2}


@dataclass(frozen=True)
class ImageRef:
    where: str  # the file, relative to the root, and what in it
    image: str

    @property
    def pinned(self) -> bool:
        return bool(DIGEST.search(self.image))

    @property
    def tag(self) -> str:
        return DIGEST.sub("", self.image)

    @property
    def exact(self) -> bool:
        match = EXACT_TAG.match(self.tag)
        if match is None:
            return False
        parts = VERSION_PARTS.get(match["name"].rsplit("/", 1)[-1], 3)
        return match["version"].count(".") + 1 == parts


def dockerfile_images(path: Path, root: Path) -> list[ImageRef]:
    text = path.read_text()
    where = str(path.relative_to(root))
    found = [
        ImageRef(f"{where} ARG {n}", i)
        for n, i in re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", text, re.M)
    ]
    for image in re.findall(r"^FROM (?:--platform=\S+ )?(\S+)", text, re.M):
        if not image.startswith("$"):
            found.append(ImageRef(f"{where} FROM", image))
    return found


def compose_images(path: Path, root: Path) -> list[ImageRef]:
    doc = yaml.safe_load(path.read_text())
    where = str(path.relative_to(root))
    return [
        ImageRef(f"{where} service {name}", service["image"])
        for name, service in sorted(doc.get("services", {}).items())
        if "image" in service and not OWN_IMAGES.match(service["image"])
    ]


def k8s_images(folder: Path, root: Path) -> list[ImageRef]:
    found = []
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or "metadata" not in doc:  # kustomization.yaml
                continue
            where = f"{path.relative_to(root)} {doc['kind']}/{doc['metadata']['name']}"
            if doc["kind"] == "RabbitmqCluster":
                # Without spec.image the operator picks its own default: implicit, so flagged.
                found.append(ImageRef(where, doc["spec"].get("image", "<the operator's default>")))
                continue
            template = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in [*template.get("initContainers", []), *template.get("containers", [])]:
                if not OWN_IMAGES.match(container["image"]):
                    found.append(ImageRef(where, container["image"]))
    return found


def images(root: Path = ROOT) -> list[ImageRef]:
    deploy = root / "deploy"
    return [
        *dockerfile_images(deploy / "Dockerfile", root),
        *compose_images(deploy / "compose.yaml", root),
        *k8s_images(deploy / "k8s" / "base", root),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecoach_dev.images", description=__doc__)
    parser.add_argument("--require-digests", action="store_true")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    refs = images(args.root)
    for ref in refs:
        state = "pinned" if ref.pinned else "NOT PINNED"
        if not ref.exact:
            state += ", NOT AN EXACT TAG"
        print(f"{state:>10}  {ref.image}  ({ref.where})")
    if any(not ref.exact for ref in refs):
        return 1
    if args.require_digests and any(not ref.pinned for ref in refs):
        print(
            "pin each with its digest: docs/operations/deploy.md, Pinning the images",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
