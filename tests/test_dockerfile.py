"""No Docker engine runs here, so check what can be checked without one."""

import re

from .conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_every_path_the_dockerfile_copies_from_the_repo_exists():
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            sources = line.split()[1:-1]
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_assets_are_built_in_a_node_stage_and_copied_into_a_slim_python_runtime():
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert stages[0].startswith("node:") and "slim" in stages[-1] and stages[-1].startswith("python:")
    assert "COPY --from=assets /build/static/dist ./static/dist" in DOCKERFILE


def test_runs_as_a_user_without_privileges_with_a_healthcheck_and_migrations_first():
    user = re.search(r"^USER (\S+)", DOCKERFILE, re.MULTILINE).group(1)
    assert user not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    command = re.search(r"^CMD (.+)$", DOCKERFILE, re.MULTILINE).group(1)
    assert command.index("portal db upgrade") < command.index("portal serve")
    assert "--workers" in command


def test_the_build_script_the_dockerfile_runs_exists_in_package_json():
    import json

    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]
    assert "build" in scripts and "static/build.mjs" in scripts["build"]
