"""The playground's speed, measured through its real server and WebSocket, as the page sees it.

    python bench/playground.py [--seconds 10] [--repeats 3] [--json OUT.json]

Starts the server as the user does (``python -m chainrule playground --no-browser``, its own
process: uvicorn on a free loopback port) and connects with the ``websockets`` client. It sets the
issue's network (6 hidden layers × 8 tanh units, 500 points of the circle data, batch 10, SGD) and
plays for ``--seconds``, counting the binary frames received and the training steps they report:
steps/s and frames/s. While it plays it sends a ``step`` message every 0.5 s and times its answer
(the socket stays responsive). Then the same with the backward view on. Needs the 'playground' extra.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time

SETTINGS = {"dataset": "circle", "points": 500, "batch_size": 10, "train_percent": 50,
            "layers": [{"units": 8, "activation": "tanh"}] * 6, "optimizer": {"name": "sgd", "learning_rate": 0.03}}


def cpu_seconds(pid):
    """User + system CPU time of process ``pid`` so far (Linux /proc), or None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


async def play(url, seconds, backward, pid=None):
    import websockets

    from chainrule.playground.frames import unpack

    async with websockets.connect(url.replace("http", "ws") + "ws", max_size=None) as ws:
        async def until(test):
            while True:
                m = await ws.recv()
                if test(m):
                    return m

        await until(lambda m: isinstance(m, str) and json.loads(m)["type"] == "warnings")  # the opening is done
        await ws.send(json.dumps({"type": "settings", "settings": SETTINGS}))
        await until(lambda m: isinstance(m, str) and json.loads(m)["type"] == "timeline")
        if backward:
            await ws.send(json.dumps({"type": "view", "backward": True}))
            await until(lambda m: isinstance(m, bytes))
        await ws.send(json.dumps({"type": "play"}))
        first = unpack(await until(lambda m: isinstance(m, bytes)))[0]
        t0, frames, latencies, asked, probe = time.perf_counter(), 0, [], None, 0
        cpu0 = cpu_seconds(pid) if pid else None
        last = first
        while time.perf_counter() - t0 < seconds:
            now = time.perf_counter()
            if asked is None and now - t0 > 0.5 * (probe + 1):
                probe += 1
                asked = now
                await ws.send(json.dumps({"type": "step", "n": 1, "id": f"probe{probe}"}))
            m = await ws.recv()
            if isinstance(m, bytes):
                header = unpack(m)[0]
                if header["step"] >= last["step"]:
                    last = header
                frames += 1
            elif json.loads(m).get("id") == f"probe{probe}" and asked is not None:
                latencies.append(time.perf_counter() - asked)
                asked = None
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0 if cpu0 is not None else None
        frames -= len(latencies)  # (each probe's answer has a frame of its own: not a play frame)
        await ws.send(json.dumps({"type": "pause"}))
        return {"backward_view": backward, "seconds": round(elapsed, 2), "steps": last["step"] - first["step"],
                "steps_per_s": round((last["step"] - first["step"]) / elapsed), "frames": frames,
                "frames_per_s": round(frames / elapsed, 1), "train_loss": last["train_loss"],
                "answer_ms_median": round(1000 * statistics.median(latencies), 1) if latencies else None,
                "answer_ms_max": round(1000 * max(latencies), 1) if latencies else None,
                # the server's CPU share, and its steps per CPU second: what the machine's load does not change
                "server_cpu_share": round(cpu / elapsed, 2) if cpu else None,
                "steps_per_cpu_s": round((last["step"] - first["step"]) / cpu) if cpu else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    from chainrule.playground import require_extra

    require_extra()
    server = subprocess.Popen([sys.executable, "-m", "chainrule", "playground", "--no-browser"],
                              stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # "chainrule playground: http://127.0.0.1:PORT/  (Ctrl-C to stop)"
    url = line.split()[2]
    results = []
    try:
        for backward in (False, True):
            for _ in range(args.repeats):
                r = asyncio.run(play(url, args.seconds, backward, server.pid))
                results.append(r)
                print(json.dumps(r), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| backward view | steps/s | frames/s | step answered while playing (median / max ms) | server CPU share "
          "| steps per server CPU second |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {'on' if r['backward_view'] else 'off'} | {r['steps_per_s']:,} | {r['frames_per_s']} | "
              f"{r['answer_ms_median']} / {r['answer_ms_max']} | {r['server_cpu_share']} | {r['steps_per_cpu_s']:,} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
