"""Nothing leaves the machine (issue 9, point 12): every connect()/sendto()/sendmsg() of `advisor index`,
`ask`, `serve` (with questions through the Gradio API, held open past ONNX Runtime's ~9 s telemetry
timer) and `eval` is traced with strace; not one may reach a non-loopback address, and no DNS query
may be sent at all.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.corpus import ROOT

from advisor.evaluation.servers import free_port, wait_for_port

pytestmark = pytest.mark.slow

STRACE = shutil.which("strace")
ADVISOR = str(Path(sys.executable).parent / "advisor")
LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"}
CALL = re.compile(r"\b(connect|sendto|sendmsg)\(")
FAMILY = re.compile(r"sa_family=(AF_\w+)")
IPV4 = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
IPV6 = re.compile(r'inet_pton\(AF_INET6,\s*"([^"]+)"')
PORT = re.compile(r"sin6?_port=htons\((\d+)\)")


def outside_attempts(trace: str) -> list[str]:
    """Lines of an `strace -f -e trace=connect,sendto,sendmsg` log that try to reach beyond loopback.

    Fails closed: an inet address it cannot parse, an unknown address family, or any packet to port 53
    (a DNS query, even to a loopback resolver that would forward it) counts as an attempt.
    """
    bad = []
    for line in trace.splitlines():
        if not CALL.search(line):
            continue  # "<... connect resumed>", signals, exits: the address is on the call's own line
        for family in FAMILY.findall(line):
            if family in LOCAL_FAMILIES:
                continue
            addresses = IPV4.findall(line) if family == "AF_INET" else IPV6.findall(line)
            if family not in ("AF_INET", "AF_INET6") or not addresses:
                bad.append(line)
                break
            ports = {int(p) for p in PORT.findall(line)}
            if 53 in ports or not all(_loopback(a) for a in addresses):
                bad.append(line)
                break
    return bad


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


@pytest.mark.parametrize(
    ("line", "outside"),
    [
        ('1 connect(3, {sa_family=AF_INET, sin_port=htons(7860), sin_addr=inet_addr("127.0.0.1")}, 16) = 0', False),
        ('1 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.8.9.1")}, 16) = 0', False),
        (
            '1 connect(3, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1",'
            " &sin6_addr), sin6_scope_id=0}, 28) = 0",
            False,
        ),
        (
            '1 connect(4, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:'
            '127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
            False,
        ),
        ('1 connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT', False),
        (
            "1 sendto(5, {{len=20, type=RTM_GETADDR}}, 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=0}, 12) = 20",
            False,
        ),
        ('1 sendto(8, "/M\\1\\0", 50, MSG_NOSIGNAL, NULL, 0) = 50', False),  # on a socket whose connect() was checked
        ('1 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0', True),
        ('1 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0', True),
        (
            '1 connect(9, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("13.69.109.130")}, 16',
            True,
        ),
        (
            '1 sendto(3, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("192.0.2.1")}, 16) = 1',
            True,
        ),
        (
            '1 sendmsg(3, {msg_name={sa_family=AF_INET6, sin6_port=htons(443), inet_pton(AF_INET6, "2001:db8::1", '
            "&sin6_addr)}, msg_namelen=28}, 0) = 1",
            True,
        ),
        ("1 connect(3, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL)}, 20) = 0", True),
        ("1 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=<garbled>}, 16) = 0", True),
    ],
)
def test_the_trace_parser_flags_every_way_out(line, outside):
    assert bool(outside_attempts(line)) is outside


def traced(cmd: list[str], log: Path, env: dict, **kwargs) -> subprocess.Popen:
    """`cmd` under strace, following every thread and child, recording connect/sendto/sendmsg."""
    strace = [STRACE, "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log)]
    return subprocess.Popen([*strace, *cmd], env=env, **kwargs)


def run_traced(cmd: list[str], log: Path, env: dict) -> subprocess.CompletedProcess:
    proc = traced(cmd, log, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=900)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.fixture(scope="module")
def workspace(small_template, tmp_path_factory) -> dict:
    """A copy of the two-document index (the traced commands rebuild and serve it: what they send is the question,
    not how much they embed)."""
    if STRACE is None:
        pytest.fail("strace is missing: scripts/system-deps.sh installs it")
    tmp = tmp_path_factory.mktemp("privacy")
    template, _ = small_template
    shutil.copytree(template.corpus_dir, tmp / "corpus")
    shutil.copytree(template.data_dir, tmp / "index")
    # A user's shell that asks for tracing and analytics must not change anything.
    env = {
        **os.environ,
        "ADVISOR_CORPUS_DIR": str(tmp / "corpus"),
        "ADVISOR_DATA_DIR": str(tmp / "index"),
        "LANGSMITH_TRACING": "true",
        "LANGCHAIN_TRACING_V2": "true",
        "GRADIO_ANALYTICS_ENABLED": "True",
    }
    env.pop("ORT_DISABLE_TELEMETRY", None)
    return {"tmp": tmp, "env": env}


def test_the_tracer_sees_an_attempt_to_leave(tmp_path):
    """Positive control: the same tracing catches a real process that tries to reach a TEST-NET address."""
    if STRACE is None:
        pytest.fail("strace is missing: scripts/system-deps.sh installs it")
    log = tmp_path / "trace.log"
    code = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('192.0.2.7', 9))"
    result = run_traced([sys.executable, "-c", code], log, dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert any("192.0.2.7" in line for line in outside_attempts(log.read_text()))


def dev_sample(each: int = 4) -> list[str]:
    """Golden lines of the dev set: the first `each` single-turn, follow-up and unanswerable items."""
    lines = (ROOT / "evals" / "dev" / "golden.jsonl").read_text().splitlines(keepends=True)
    kinds = {"single": [], "follow-up": [], "refusal": []}
    for line in lines:
        item = json.loads(line)
        kind = "refusal" if not item.get("answerable", True) else "follow-up" if item.get("history") else "single"
        kinds[kind].append(line)
    return [line for group in kinds.values() for line in group[:each]]


def test_index_ask_and_eval_send_nothing_out(workspace):
    tmp, env = workspace["tmp"], workspace["env"]
    golden = tmp / "golden.jsonl"  # a dozen dev items, follow-ups and refusals among them: every code path of eval
    golden.write_text("".join(dev_sample()))
    commands = {
        "index": [ADVISOR, "index", "--full"],
        "ask": [ADVISOR, "ask", "--json", "What do AI architects earn?"],
        "eval": [ADVISOR, "eval", "--golden", str(golden), "--out", str(tmp / "eval")],
    }
    for name, cmd in commands.items():
        log = tmp / f"{name}.trace"
        result = run_traced(cmd, log, env)
        assert result.returncode == 0, (name, result.stderr.decode()[-2000:])
        assert outside_attempts(log.read_text()) == [], name
    assert (tmp / "eval" / "summary.json").exists()


def test_serve_sends_nothing_out_past_the_telemetry_timer(workspace):
    from gradio_client import Client

    tmp, env = workspace["tmp"], workspace["env"]
    log = tmp / "serve.trace"
    port = free_port()
    with (tmp / "serve.log").open("w") as out:
        proc = traced([ADVISOR, "serve", "--port", str(port)], log, env, stdout=out, stderr=out)
        try:
            assert wait_for_port(port, proc, timeout=600), (tmp / "serve.log").read_text()[-2000:]
            opened = time.monotonic()  # the embedder's ONNX session was created during warm-up, before this
            client = Client(
                f"http://127.0.0.1:{port}", verbose=False, httpx_kwargs={"timeout": 600}, download_files=False
            )
            first = client.predict("What does a staff AI engineer own?", [], 5, api_name="/ask")
            assert "'role': 'assistant'" in str(first)
            time.sleep(max(0.0, opened + 15 - time.monotonic()))  # ONNX Runtime phones home ~9 s after
            second = client.predict("Which certifications help an aspiring AI architect?", [], 5, api_name="/ask")
            assert "'role': 'assistant'" in str(second)
        finally:
            _stop(proc)
    trace = log.read_text()
    assert outside_attempts(trace) == []


def _stop(proc: subprocess.Popen) -> None:
    """Stop the traced server: interrupt the advisor process (strace's child), then let strace exit."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    pids = children.read_text().split() if children.exists() else []
    for pid in pids:
        os.kill(int(pid), signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        for pid in pids:
            os.kill(int(pid), signal.SIGKILL)
        proc.wait(timeout=30)
