"""The playground's server through Starlette's TestClient: routes, the WebSocket's messages, hostile
messages (answered with an `error`, the session keeps serving), session isolation and determinism."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from pgclient import opened, receive, send, step, until  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from chainrule.playground.registry import Registry  # noqa: E402
from chainrule.playground.server import create_app  # noqa: E402
from chainrule.playground.settings import GRID, LIMITS, check_settings  # noqa: E402


@pytest.fixture
def registry():
    return Registry()


@pytest.fixture
def client(registry):
    with TestClient(create_app(registry)) as c:
        yield c


def test_routes(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../settings.py").status_code == 404  # nothing outside static/
    assert client.get("/static/%2e%2e/settings.py").status_code == 404
    options = client.get("/api/options").json()
    assert options["limits"] == LIMITS and options["grid"] == GRID
    assert check_settings(options["defaults"]) == options["defaults"]
    assert client.get("/api/export/nosuchsession/config").status_code == 404


def test_opening_messages_and_frame_shapes(client):
    with client.websocket_connect("/ws") as ws:
        first = opened(ws)
        hello, network = first["hello"], first["network"]
        assert hello["session"] and hello["options"]["limits"] == LIMITS
        assert network["sizes"] == [2, 4, 2, 2] and network["step"] == 0 and network["reset"] is True
        header, arrays = first["frame"]
        G, g = GRID["surface"], GRID["neuron"]
        assert arrays["surface"].shape == (G, G)
        assert np.all((arrays["surface"] >= 0) & (arrays["surface"] <= 1))  # P(class 1)
        assert arrays["neurons"].shape == (2 + 4 + 2, g, g)  # 2 inputs, 4 + 2 hidden units
        assert [arrays[k].shape for k in ("W0", "b0", "W1", "b1", "W2", "b2")] == \
            [(4, 2), (4,), (2, 4), (2,), (2, 2), (2,)]
        assert arrays["grad_norms"].shape == (3,)
        _, data = first["data"]
        assert len(data["train"]) + len(data["test"]) == 500 and data["train"].shape[1] == 3
        # the neuron maps' first rows are the input features themselves on the grid (x1 grows to the right)
        assert arrays["neurons"][0][0, 0] == pytest.approx(-GRID["extent"]) and \
            arrays["neurons"][0][0, -1] == pytest.approx(GRID["extent"])


def test_step_trains_and_the_loss_falls(client):
    with client.websocket_connect("/ws") as ws:
        header0, _ = opened(ws)["frame"]
        header, arrays = step(ws, 500)
        assert header["step"] == 500
        assert header["train_loss"] < header0["train_loss"]
        assert np.all(arrays["grad_norms"] > 0)


def test_play_sends_frames_and_pause_stops_them(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        send(ws, {"type": "play"})
        steps = [until(ws, "frame")[0]["step"] for _ in range(3)]
        assert steps == sorted(steps) and steps[0] > 0
        send(ws, {"type": "step", "n": 1, "id": "mid-play"})  # answered while playing
        assert until(ws, "timeline", limit=200)["id"] == "mid-play"
        send(ws, {"type": "pause", "id": "p"})
        until(ws, "timeline", limit=200)  # pause's answer: a frame and the timeline
        send(ws, {"type": "step", "n": 1})
        stopped = until(ws, "frame")[0]["step"]
        until(ws, "timeline")
        send(ws, {"type": "step", "n": 1})
        assert until(ws, "frame")[0]["step"] == stopped + 1  # nothing trained in between


HOSTILE = [
    ("not json", None),
    ("[1, 2]", None),
    ('{"type": "explode"}', None),
    ('{"type": "step", "n": 0}', "step"),
    ('{"type": "step", "n": 1001}', "step"),
    ('{"type": "step", "n": NaN}', None),
    ('{"type": "step", "n": "5"}', "step"),
    ('{"type": "step", "extra": 1}', "step"),
    ('{"type": "settings"}', "settings"),
    ('{"type": "settings", "settings": {"layers": ' + json.dumps([{"units": 4, "activation": "tanh"}] * 9) + "}}",
     "settings"),
    ('{"type": "settings", "settings": {"layers": [{"units": 65, "activation": "tanh"}]}}', "settings"),
    ('{"type": "settings", "settings": {"points": 10001}}', "settings"),
    ('{"type": "settings", "settings": {"noise": 1e999}}', "settings"),
    ('{"type": "settings", "settings": {"unknown": 1}}', "settings"),
    ('{"type": "settings", "settings": "all"}', "settings"),
    ('{"type": "set_weight", "layer": 7, "param": "weight", "row": 0, "col": 0, "value": 1}', "set_weight"),
    ('{"type": "set_weight", "layer": 0, "param": "weight", "row": 99, "col": 0, "value": 1}', "set_weight"),
    ('{"type": "set_weight", "layer": 0, "param": "gamma", "row": 0, "col": 0, "value": 1}', "set_weight"),
    ('{"type": "set_weight", "layer": 0, "param": "weight", "row": 0, "value": 1}', "set_weight"),
    ('{"type": "backprop", "point": [1]}', "backprop"),
    ('{"type": "backprop", "point": [1, 2], "target": 7}', "backprop"),
    ('{"type": "add_point", "point": [1, 2], "target": 5}', "add_point"),
    ('{"type": "add_point", "point": [1e300, 2], "target": 0}', "add_point"),
    ('{"type": "rewind", "snapshot": 999}', "rewind"),
    ('{"type": "upload", "csv": "x1,x2,label\\n1,2,0\\n"}', "upload"),
    ('{"type": "upload", "csv": "x1,x2,label\\n1,2,a\\n3,4,1\\n"}', "upload"),
    ('{"type": "upload", "csv": "1,2\\n3,4\\n"}', "upload"),
    ('{"type": "upload", "csv": 5}', "upload"),
    ('{"type": "view", "backward": "yes"}', "view"),
    ('{"type": "step", "id": {"a": 1}}', "step"),
]


@pytest.mark.parametrize("text, request_type", HOSTILE)
def test_hostile_messages_get_an_error_and_the_session_keeps_serving(client, text, request_type):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_text(text)
        kind, error = receive(ws)
        assert kind == "json" and error["type"] == "error", error
        assert error["request"] == request_type
        assert "\n" not in error["message"] and 0 < len(error["message"]) <= 500
        header, _ = step(ws, 3)
        assert header["step"] == 3


def test_oversized_binary_and_upload_messages(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_text(" " * (LIMITS["max_message_bytes"] + 1))
        assert "more than" in until(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01binary")
        assert "binary" in until(ws, "error")["message"]
        big = "x1,x2,label\n" + "1,2,0\n" * (LIMITS["max_upload_bytes"] // 6 + 1)
        assert LIMITS["max_upload_bytes"] < len(big) < LIMITS["max_message_bytes"]
        send(ws, {"type": "upload", "csv": big})
        assert "1048576" in until(ws, "error")["message"]
        rows = "x1,x2,label\n" + "".join(f"{i % 5},{i % 7},{i % 2}\n" for i in range(LIMITS["max_points"] + 1))
        send(ws, {"type": "upload", "csv": rows})
        assert "10000" in until(ws, "error")["message"]
        assert step(ws, 1)[0]["step"] == 1


def test_upload_replaces_the_data(client):
    rows = "x1,x2,label\n" + "".join(f"{np.cos(t):.4f},{np.sin(t):.4f},{int(t > 3)}\n" for t in np.linspace(0, 6, 40))
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        send(ws, {"type": "upload", "csv": rows})
        network = until(ws, "network")
        assert network["settings"]["dataset"] == "upload"
        _, data = until(ws, "data")
        assert len(data["train"]) + len(data["test"]) == 40
        assert set(np.concatenate([data["train"][:, 2], data["test"][:, 2]])) == {0.0, 1.0}


def test_sessions_are_isolated(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        opened(a)
        opened(b)
        send(b, {"type": "settings", "settings": {"dataset": "xor", "layers": [{"units": 3, "activation": "relu"}]}})
        assert until(b, "network")["sizes"] == [2, 3, 2]
        before_b = until(b, "frame")[1]["W0"].copy()
        header_a, arrays_a = step(a, 50)
        assert header_a["step"] == 50 and arrays_a["W0"].shape == (4, 2)
        header_b, arrays_b = step(b, 1)
        assert header_b["step"] == 1 and arrays_b["W0"].shape == (3, 2)
        assert not np.array_equal(before_b, arrays_b["W0"])  # b trained its own one step


def test_same_settings_and_seed_give_the_same_run(client):
    settings = {"dataset": "spiral", "seed": 7, "layers": [{"units": 8, "activation": "tanh"}] * 2}
    runs = []
    for _ in range(2):
        with client.websocket_connect("/ws") as ws:
            opened(ws)
            send(ws, {"type": "settings", "settings": settings})
            until(ws, "timeline")
            runs.append([step(ws, 40) for _ in range(3)])
    for (h1, a1), (h2, a2) in zip(*runs):
        assert h1["train_loss"] == h2["train_loss"] and h1["test_loss"] == h2["test_loss"]
        assert np.array_equal(a1["W0"], a2["W0"])
    with client.websocket_connect("/ws") as ws:  # another seed: another run (the check can fail)
        opened(ws)
        send(ws, {"type": "settings", "settings": {**settings, "seed": 8}})
        until(ws, "timeline")
        assert step(ws, 40)[0]["train_loss"] != runs[0][0][0]["train_loss"]


def test_a_closed_socket_stops_its_training_and_exports_stay_a_while(client, registry):
    with client.websocket_connect("/ws") as ws:
        session_id = opened(ws)["hello"]["session"]
        send(ws, {"type": "play"})
        until(ws, "frame")
    session = registry.get(session_id)
    assert session is not None and session_id not in registry.open
    time.sleep(0.2)  # (any training still running would move the step count during the next sleep)
    steps = session.training.step_count
    time.sleep(0.3)
    assert session.training.step_count == steps
    assert client.get(f"/api/export/{session_id}/config").status_code == 200
    assert client.get(f"/api/export/{session_id}/pdf").status_code == 400
    registry.keep_seconds = 0  # freed once their time is up
    time.sleep(0.01)
    assert client.get(f"/api/export/{session_id}/config").status_code == 404


def test_closed_sessions_kept_are_bounded():
    registry = Registry(max_closed=2)

    class Stub:
        def __init__(self, i):
            self.id = str(i)

    for i in range(5):
        s = Stub(i)
        registry.add(s)
        registry.closed(s)
    assert sorted(registry.sessions) == ["3", "4"]


def test_set_weight_and_view_backward(client):
    with client.websocket_connect("/ws") as ws:
        before = opened(ws)["frame"][0]["train_loss"]
        send(ws, {"type": "set_weight", "layer": 1, "param": "weight", "row": 1, "col": 2, "value": 2.5})
        header, arrays = until(ws, "frame")
        assert arrays["W1"][1, 2] == 2.5
        assert header["train_loss"] != before  # the loss of the edited network, not the one before
        send(ws, {"type": "set_weight", "layer": 0, "param": "bias", "row": 3, "value": -1.25})
        assert until(ws, "frame")[1]["b0"][3] == -1.25
        step(ws, 5)
        send(ws, {"type": "view", "backward": True})
        _, arrays = until(ws, "frame")
        assert arrays["gW0"].shape == (4, 2) and arrays["delta0"].shape == (4,) and arrays["delta2"].shape == (2,)
        assert np.all(arrays["gW0"] >= 0)


def test_add_point_adds_a_training_point(client):
    with client.websocket_connect("/ws") as ws:
        _, data = opened(ws)["data"]
        send(ws, {"type": "add_point", "point": [0.5, -0.25], "target": 1})
        _, after = until(ws, "data")
        assert len(after["train"]) == len(data["train"]) + 1
        assert after["train"][-1].tolist() == [0.5, -0.25, 1.0]


def test_seeds_side_by_side_in_frames(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        send(ws, {"type": "settings", "settings": {"seeds": 4}})
        _, arrays = until(ws, "frame")
        assert arrays["surfaces"].shape == (4, GRID["surface"], GRID["surface"])
        assert arrays["seed_losses"].shape == (4, 2)
        _, arrays = step(ws, 500)
        assert len(set(arrays["seed_losses"][:, 0].tolist())) == 4  # four different seeds, four runs


def test_tabs_beyond_the_limit_are_told_and_closed(client, monkeypatch):
    from chainrule.playground import server

    monkeypatch.setattr(server, "MAX_OPEN", 1)
    with client.websocket_connect("/ws") as first:
        opened(first)
        with client.websocket_connect("/ws") as second:
            kind, error = receive(second)
            assert kind == "json" and error["type"] == "error" and "tabs" in error["message"]
            assert second.receive()["type"] == "websocket.close"
        assert step(first, 1)[0]["step"] == 1  # the first tab is served on


def test_an_idle_socket_is_closed_and_its_session_freed_later(client, registry, monkeypatch):
    from chainrule.playground import server

    monkeypatch.setattr(server, "IDLE_SECONDS", 0.2)
    with client.websocket_connect("/ws") as ws:
        session_id = opened(ws)["hello"]["session"]
        assert ws.receive()["type"] == "websocket.close"
    assert session_id not in registry.open


def test_a_websocket_from_another_origin_is_refused(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
            ws.receive()
    assert e.value.code == 1008
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:  # the page's own
        assert opened(ws)["hello"]["session"]


def test_served_on_loopback_only_loopback_host_names_pass():
    from chainrule.playground.server import LOOPBACK_HOSTS

    app = create_app(allowed_hosts=LOOPBACK_HOSTS)
    assert TestClient(app, base_url="http://127.0.0.1:8000").get("/api/options").status_code == 200
    assert TestClient(app, base_url="http://localhost:8000").get("/api/options").status_code == 200
    # a name re-pointed at 127.0.0.1 (DNS rebinding) is refused
    assert TestClient(app, base_url="http://evil.example:8000").get("/api/options").status_code == 400


def test_export_route_downloads_the_weights_the_frames_show(client, tmp_path):
    from chainrule.saving import load_weights

    with client.websocket_connect("/ws") as ws:
        session_id = opened(ws)["hello"]["session"]
        _, arrays = step(ws, 100)
        answer = client.get(f"/api/export/{session_id}/safetensors")
        assert answer.status_code == 200 and 'filename="model.safetensors"' in answer.headers["content-disposition"]
        (tmp_path / "model.safetensors").write_bytes(answer.content)
        weights = load_weights(tmp_path / "model.safetensors")
        # frames carry float32: the float64 weights rounded to float32 are exactly the frame's numbers
        assert np.array_equal(weights["0.weight"].astype(np.float32), arrays["W0"])
        assert np.array_equal(weights["4.bias"].astype(np.float32), arrays["b2"])
        config = client.get(f"/api/export/{session_id}/config")
        assert config.status_code == 200 and b"hidden = [4, 2]" in config.content


def test_the_real_server_answers_oversized_messages_and_serves_on():
    """Through uvicorn and a real WebSocket (the `websockets` client), not the test client."""
    websockets = pytest.importorskip("websockets.sync.client")
    from chainrule.playground.server import WS_MAX_SIZE, start_in_thread

    url, stop = start_in_thread()
    try:
        with websockets.connect(url.replace("http", "ws") + "ws", max_size=None) as ws:
            while True:  # the opening ends with the warnings
                m = ws.recv()
                if isinstance(m, str) and json.loads(m)["type"] == "warnings":
                    break
            ws.send(" " * (LIMITS["max_message_bytes"] + 1))
            error = json.loads(ws.recv())
            assert error["type"] == "error" and "more than" in error["message"]
            ws.send(json.dumps({"type": "step", "n": 2}))
            while not isinstance(m := ws.recv(), bytes):
                pass
            assert json.loads(m[4:4 + int.from_bytes(m[:4], "little")])["step"] == 2
        with websockets.connect(url.replace("http", "ws") + "ws", max_size=None) as ws:
            ws.send(" " * (WS_MAX_SIZE + 1))  # beyond what is read at all: closed, "message too big"
            with pytest.raises(Exception) as e:
                while True:
                    ws.recv()
            assert "1009" in str(e.value)
    finally:
        stop()


def test_an_upload_of_exactly_1_mb_is_read_and_one_byte_more_is_not(client):
    rows = "x1,x2,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"
    exact = rows + "\n" * (LIMITS["max_upload_bytes"] - len(rows))  # (blank lines are skipped)
    assert len(exact.encode()) == LIMITS["max_upload_bytes"]
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        send(ws, {"type": "upload", "csv": exact + "\n"})
        assert "1048577 bytes" in until(ws, "error")["message"]
        send(ws, {"type": "upload", "csv": exact})
        assert until(ws, "network")["settings"]["dataset"] == "upload"


def test_an_error_echoes_the_id_of_the_message_it_answers(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        send(ws, {"type": "step", "n": 0, "id": "s1"})
        error = until(ws, "error")
        assert error["id"] == "s1" and error["request"] == "step"
        send(ws, {"type": "rewind", "snapshot": 12345, "id": 7})
        assert until(ws, "error")["id"] == 7


def test_an_export_whose_package_is_missing_says_which(client, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with client.websocket_connect("/ws") as ws:
        session_id = opened(ws)["hello"]["session"]
        answer = client.get(f"/api/export/{session_id}/onnx")
        assert answer.status_code == 501 and "pip install 'chainrule[onnx]'" in answer.text


def test_a_long_step_in_one_tab_does_not_hold_up_another(client, registry):
    wide = {"layers": [{"units": 32, "activation": "tanh"}] * 8, "points": 2000, "batch_size": 50}
    with client.websocket_connect("/ws") as busy, client.websocket_connect("/ws") as other:
        busy_id = opened(busy)["hello"]["session"]
        opened(other)
        send(busy, {"type": "settings", "settings": wide})
        until(busy, "timeline")
        step(busy, 5)  # (the first step compiles the network's step)
        send(busy, {"type": "step", "n": 1000, "id": "long"})
        send(other, {"type": "step", "n": 1, "id": "short"})
        assert until(other, "timeline")["id"] == "short"
        # answered while the long step was still training (a blocking step would have finished first)
        assert registry.get(busy_id).training.step_count < 1005
        header, _ = until(busy, "frame")
        assert header["step"] == 1005 and until(busy, "timeline")["id"] == "long"
