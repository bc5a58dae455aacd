"""Per-thread CPU time of this process (Linux /proc), shared by the bench scripts."""
import os


def thread_cpu():
    """{tid: CPU ms} for every thread of this process, or None where /proc is missing."""
    try:
        out = {}
        for t in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{t}/stat") as fh:
                st = fh.read()
            f = st[st.rindex(")") + 2:].split(" ")
            out[t] = (int(f[11]) + int(f[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
        return out
    except OSError:
        return None


def busiest(a, b):
    """CPU ms of the busiest thread between two snapshots (the critical path on free cores)."""
    if a is None or b is None:
        return float("nan")
    return max(v - a.get(t, 0.0) for t, v in b.items())
