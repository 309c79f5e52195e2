"""The set-up's installs (scripts/dev.py): uv installs the pins, and pip those uv cannot find."""

import runpy
import subprocess
import venv
import zipfile

import pytest

from devenv import ROOT

SET_UP = runpy.run_path(str(ROOT / "scripts" / "dev.py"))


@pytest.fixture(scope="module")
def new_venv(tmp_path_factory):
    """A new virtualenv with pip, as the set-up makes one: both tests install into it (its
    pip, about 7 CPU-s to make, is the same for both)."""
    folder = tmp_path_factory.mktemp("installs") / "venv"
    venv.create(folder, with_pip=True, symlinks=True)
    return folder


def wheel(folder, name, version):
    """Write a wheel of a package `name` that only `folder` holds; return its import name."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: memo\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / f"{module}-{version}-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return module


def test_a_pin_only_pips_configuration_can_find_is_installed_by_pip(
    new_venv, tmp_path, monkeypatch
):
    # A machine whose packages come from pip's own configuration (here a folder of wheels,
    # PIP_FIND_LINKS): uv reads none of it, cannot find the pin, and pip installs it.
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    module = wheel(wheels, "memo-install-probe", "1.0")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("memo-install-probe==1.0\n")
    folder = new_venv
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    output = tmp_path / "install.log"
    with open(output, "wb") as log:
        assert SET_UP["install_into"](folder, requirements, log) == 0
    said = output.read_text()
    assert (folder / "bin" / "uv").exists(), said
    assert "memo-install-probe was not found in the package registry" in said  # uv tried first
    assert "memo-install-probe" in said and "Successfully installed memo-install-probe" in said
    imported = subprocess.run(
        [folder / "bin" / "python", "-c", f"import {module}; print({module}.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "1.0"


def test_uv_installs_the_pins_with_their_bytecode(new_venv, tmp_path):
    folder = new_venv
    requirements = tmp_path / "requirements.txt"
    # A pin of the project's own, small and pure Python.
    pin = next(
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.startswith("python-dotenv==")
    )
    requirements.write_text(pin + "\n")
    with open(tmp_path / "install.log", "wb") as log:
        assert SET_UP["install_into"](folder, requirements, log) == 0
    assert "Installed 1 package" in (tmp_path / "install.log").read_text()  # by uv
    packages = next((folder / "lib").glob("python3*/site-packages"))
    assert list((packages / "dotenv" / "__pycache__").glob("*.pyc"))
