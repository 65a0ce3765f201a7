"""tests/stack.sh, which `make run` uses: one stack per profile at a time."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_stack_of_the_same_profile_refuses_and_says_so(stack, http, base_url):
    r = subprocess.run([str(ROOT / "tests" / "stack.sh"), "run", stack["CHAT_PROFILE"]],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "already running" in r.stderr
    # The running stack was not disturbed.
    assert http.get(f"{base_url}/api/health").status_code == 200
    assert (Path(stack["CHAT_STACK_DIR"]) / "ready").exists()
