"""Attacks through the ledger's own files: symlinks out of the ledger and special files.

A pull request controls every file below the ledger root (spec sections 1 and 11).  Each test plants
what an attacker would commit -- a real symlink to a secret outside the ledger, a link to a device,
a FIFO -- and checks that its content is never printed, that nothing hangs and that memory stays
bounded: each such file is one located E030 and is never read.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli, write_ledger

CANARY = "TOP-SECRET-CANARY-7f3a"


def _secret(tmp_path: Path) -> Path:
    """A file outside the ledger that the attacker wants to read (as /etc/passwd would be)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(f"root:x:0:0:{CANARY}:/root:/bin/bash\nclient evil \"{CANARY}\"\n", encoding="utf-8")
    return secret


def _ledger(tmp_path: Path) -> Path:
    return write_ledger(tmp_path / "ledger", "")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_bill_symlinked_outside_the_ledger_is_never_read(tmp_path, fmt):
    root = _ledger(tmp_path)
    (root / "leak.bill").symlink_to(_secret(tmp_path))
    r = cli("check", "-f", root, "--format", fmt, "--no-cache")
    assert r.code == 1, r
    assert CANARY not in r.out + r.err, r
    assert "E030" in r.out + r.err
    if fmt == "text":
        assert "leak.bill:1:1: error[E030]" in r.err


def test_etc_passwd_through_a_symlink_is_never_printed(tmp_path):
    root = _ledger(tmp_path)
    (root / "leak.bill").symlink_to("/etc/passwd")
    for extra in ((), ("--no-cache",)):
        r = cli("check", "-f", root, *extra)
        assert r.code == 1, r
        assert "root:" not in r.out + r.err, r
        assert "leak.bill:1:1: error[E030]" in r.err


def test_textbill_yaml_symlinked_outside_is_never_read(tmp_path):
    root = _ledger(tmp_path)
    (root / "textbill.yaml").symlink_to(_secret(tmp_path))
    r = cli("check", "-f", root)
    assert r.code == 1, r
    assert CANARY not in r.out + r.err, r
    assert "textbill.yaml:1:1: error[E030]" in r.err


def test_a_symlinked_folder_outside_the_ledger_is_not_walked(tmp_path):
    root = _ledger(tmp_path)
    secret = _secret(tmp_path)
    (secret.parent / "more.bill").write_text(f'client evil "{CANARY}"\n', encoding="utf-8")
    (root / "2026").symlink_to(secret.parent, target_is_directory=True)
    r = cli("check", "-f", root, "--format", "json", "--no-cache")
    assert CANARY not in r.out + r.err, r


def test_a_symlink_inside_the_ledger_to_a_file_inside_it_is_read(tmp_path):
    root = _ledger(tmp_path)
    (root / "shared").mkdir()
    (root / "shared" / "clients.txt").write_text('client globex "Globex"\n  currency USD\n', encoding="utf-8")
    (root / "clients.bill").symlink_to(Path("shared") / "clients.txt")
    r = cli("check", "-f", root, "--no-cache")
    assert r.code == 0, r


def _run_check(root: Path, timeout: float = 30, cache: bool = False) -> subprocess.CompletedProcess:
    """`textbill check` in a process of its own, with 1 GB of address space and a pipe on stdin
    that never closes (so a read of /dev/stdin would wait forever): a hang is a timeout."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("TEXTBILL_LEDGER", None)
    return subprocess.run([sys.executable, "-m", "textbill", "check", *([] if cache else ["--no-cache"]), "-f", str(root)],
                          stdin=subprocess.PIPE, capture_output=True, timeout=timeout, preexec_fn=limit,
                          env=env, text=True, check=False)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/stdin"])
def test_a_bill_linked_to_a_device_is_refused_without_hang_or_memory(tmp_path, device):
    root = _ledger(tmp_path)
    (root / "zero.bill").symlink_to(device)
    done = _run_check(root)
    assert done.returncode == 1, done.stderr
    assert "zero.bill:1:1: error[E030]" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_fifo_named_bill_is_refused_without_hanging(tmp_path):
    root = _ledger(tmp_path)
    os.mkfifo(root / "pipe.bill")
    done = _run_check(root)
    assert done.returncode == 1, done.stderr
    assert "pipe.bill:1:1: error[E030]" in done.stderr, done.stderr


def test_a_fifo_named_textbill_yaml_is_refused_without_hanging_when_caches_are_on(tmp_path):
    # the caches' own reads (the persisted state keys on textbill.yaml's bytes) go through the same guard
    root = _ledger(tmp_path)
    assert _run_check(root, cache=True).returncode == 0
    (root / "textbill.yaml").unlink(missing_ok=True)
    os.mkfifo(root / "textbill.yaml")
    done = _run_check(root, cache=True)
    assert done.returncode == 1, done.stderr
    assert "textbill.yaml:1:1: error[E030]" in done.stderr, done.stderr


def test_a_fifo_named_textbill_lock_ends_without_hanging_when_caches_are_on(tmp_path):
    root = _ledger(tmp_path)
    assert _run_check(root, cache=True).returncode == 0
    os.mkfifo(root / "textbill.lock")
    for cache in (True, False):  # check and check --no-cache agree
        done = _run_check(root, cache=cache)
        assert done.returncode == 1, done.stderr
        assert "textbill.lock:1:1: error[E030]" in done.stderr, done.stderr


def test_a_fifo_named_textbill_yaml_is_refused_without_hanging(tmp_path):
    root = _ledger(tmp_path)
    os.mkfifo(root / "textbill.yaml")
    done = _run_check(root)
    assert done.returncode == 1, done.stderr
    assert "textbill.yaml:1:1: error[E030]" in done.stderr, done.stderr
