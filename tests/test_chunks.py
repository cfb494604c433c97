"""Resumable evaluations (robustcore.chunks): resume, refusal, outcomes."""

import pytest
import torch

from misuse import cases, misuse_test
from robustcore import attacks, chunks, io


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))


def _data(n=10):
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 1, 2, 2, generator=g), torch.randint(0, 3, (n,), generator=g)


class Counting:
    """``fn`` for evaluate: per-digit correctness, logits and the digit's index sum;
    counts the rows it was called on; fails on the call numbered ``fail_on``."""

    def __init__(self, net, fail_on=None):
        self.net, self.rows, self.calls, self.fail_on = net, 0, 0, fail_on

    def __call__(self, x, y):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt  # the session ends here
        self.rows += len(x)
        logits = self.net(x)
        return {"correct": logits.argmax(1) == y, "label": y, "logits": logits}


def test_without_a_folder_the_chunks_concatenate(monkeypatch):
    monkeypatch.delenv(chunks.ENV_VAR, raising=False)
    net, (x, y) = _net(), _data()
    fn = Counting(net)
    out = chunks.evaluate(fn, x, y, name="e", model=net, chunk=4, show_progress=False)
    assert fn.calls == 3 and fn.rows == 10
    whole = Counting(net)(x, y)
    assert torch.equal(out["correct"], whole["correct"])
    assert torch.allclose(out["logits"], whole["logits"])


def test_an_interrupted_evaluation_resumes_where_it_stopped(tmp_path):
    net, (x, y) = _net(), _data()
    with pytest.raises(KeyboardInterrupt):
        chunks.evaluate(
            Counting(net, fail_on=2), x, y, name="e", model=net, chunk=4,
            folder=tmp_path, show_progress=False,
        )  # fmt: skip
    assert len(list((tmp_path / "e").glob("chunk-*.pt.xz"))) == 1
    fn = Counting(net)
    out = chunks.evaluate(
        fn, x, y, name="e", model=net, chunk=4, folder=tmp_path, show_progress=False
    )
    assert fn.rows == 6  # only the two chunks not made before
    again = Counting(net)
    same = chunks.evaluate(
        again, x, y, name="e", model=net, chunk=4, folder=tmp_path, show_progress=False
    )
    assert again.calls == 0
    assert all(torch.equal(out[k], same[k]) for k in out)
    assert torch.equal(out["correct"], Counting(net)(x, y)["correct"])


def test_the_environment_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(chunks.ENV_VAR, str(tmp_path))
    net, (x, y) = _net(), _data()
    chunks.evaluate(Counting(net), x, y, name="e", model=net, show_progress=False)
    assert (tmp_path / "e" / "chunk-000000-000010.pt.xz").is_file()
    assert (tmp_path / "e" / "chunk-000000-000010.pt.xz.sha256").is_file()


def test_per_digit_outcomes_are_kept_compressed_images_are_not(tmp_path, monkeypatch):
    net, (x, y) = _net(), _data()
    kw = {"model": net, "chunk": 5, "folder": tmp_path, "show_progress": False}
    small = chunks.evaluate(Counting(net), x, y, name="small", **kw)
    monkeypatch.setattr(chunks, "SMALL_BYTES", 1)  # every chunk counts as large
    large = chunks.evaluate(Counting(net), x, y, name="large", **kw)
    assert sorted(p.name for p in (tmp_path / "small").glob("chunk-*")) == [
        "chunk-000000-000005.pt.xz", "chunk-000000-000005.pt.xz.sha256",
        "chunk-000005-000010.pt.xz", "chunk-000005-000010.pt.xz.sha256",
    ]  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "large").glob("chunk-*.pt")) == [
        "chunk-000000-000005.pt", "chunk-000005-000010.pt",
    ]  # fmt: skip
    assert all(torch.equal(small[k], large[k]) for k in small)
    again = Counting(net)  # both read back without computing
    chunks.evaluate(again, x, y, name="small", **kw)
    chunks.evaluate(again, x, y, name="large", **kw)
    assert again.calls == 0
    assert set(chunks.outcomes(tmp_path)) == {"small", "large"}


def test_none_kept_keeps_nothing_and_restores_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(chunks.ENV_VAR, str(tmp_path))
    net, (x, y) = _net(), _data()
    with chunks.none_kept():
        chunks.evaluate(Counting(net), x, y, name="e", model=net, show_progress=False)
        assert chunks.progress_dir() is None
    assert not list(tmp_path.iterdir())
    assert chunks.progress_dir() == tmp_path


@pytest.mark.parametrize(
    "change, words",
    [
        ({"model": _net(seed=1)}, "model_sha256"),
        ({"settings": {"eps": 0.2}}, "settings"),
        ({"chunk": 5}, "chunk"),
        ({"x": _data()[0] + 0.01}, "inputs_sha256"),
    ],
)
def test_chunks_of_another_evaluation_are_refused(tmp_path, change, words):
    net, (x, y) = _net(), _data()
    kw = {"name": "e", "folder": tmp_path, "show_progress": False}
    chunks.evaluate(
        Counting(net), x, y, model=net, chunk=4, settings={"eps": 0.1}, **kw
    )
    args = {"model": net, "chunk": 4, "settings": {"eps": 0.1}, "x": x, **change}
    with pytest.raises(ValueError, match=words):
        chunks.evaluate(Counting(args["model"]), args.pop("x"), y, **args, **kw)


def test_a_chunk_from_other_weights_is_refused_even_without_the_manifest(tmp_path):
    net, other, (x, y) = _net(), _net(seed=1), _data()
    kw = {"name": "e", "folder": tmp_path, "chunk": 4, "show_progress": False}
    chunks.evaluate(Counting(other), x, y, model=other, **kw)
    (tmp_path / "e" / "manifest.json").unlink()
    with pytest.raises(ValueError, match="other weights"):
        chunks.evaluate(Counting(net), x, y, model=net, **kw)


def test_a_modified_chunk_is_refused(tmp_path):
    net, (x, y) = _net(), _data()
    kw = {"name": "e", "folder": tmp_path, "chunk": 4, "show_progress": False}
    chunks.evaluate(Counting(net), x, y, model=net, **kw)
    path = tmp_path / "e" / "chunk-000004-000008.pt.xz"
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    with pytest.raises(io.ChecksumError):
        chunks.evaluate(Counting(net), x, y, model=net, **kw)


def test_a_dataclass_comes_back_as_itself_also_from_disk(tmp_path):
    net, (x, y) = _net(), _data(6)

    def fn(x, y):
        n = len(x)
        return attacks.OnePixelResult(
            x_adv=x, success=y == 1, queries=torch.full((n,), 7),
            generations=torch.arange(n), probs=net(x).softmax(1),
            candidates=torch.zeros(n, 1, 3),
        )  # fmt: skip

    kw = {"name": "op", "folder": tmp_path, "chunk": 4, "show_progress": False}
    first = chunks.evaluate(fn, x, y, model=net, **kw)
    loaded = chunks.evaluate(lambda *a: 1 / 0, x, y, model=net, **kw)
    assert isinstance(loaded, attacks.OnePixelResult)
    assert torch.equal(loaded.success, first.success)
    found = chunks.outcomes(tmp_path)["op"]
    assert found["success"] == "".join("1" if v == 1 else "0" for v in y.tolist())
    assert found["queries"] == [7] * 6 and found["generations"] == [0, 1, 2, 3, 0, 1]
    assert "x_adv" not in found and "probs" not in found
    assert found["done"] == found["n"] == 6
    assert found["model_sha256"] == chunks.fingerprint(net)


def test_outcomes_count_the_digits_done(tmp_path):
    net, (x, y) = _net(), _data()
    kw = {"name": "e", "folder": tmp_path, "chunk": 4, "show_progress": False}
    with pytest.raises(KeyboardInterrupt):
        chunks.evaluate(Counting(net, fail_on=3), x, y, model=net, **kw)
    found = chunks.outcomes(tmp_path)["e"]
    assert (found["done"], found["n"]) == (8, 10)
    assert len(found["correct"]) == 8 and set(found["correct"]) <= {"0", "1"}
    assert "logits" not in found


def test_fingerprint_follows_the_weights():
    a, b = _net(), _net()
    assert chunks.fingerprint(a) == chunks.fingerprint(b)
    with torch.no_grad():
        b[1].bias[0] += 1e-7
    assert chunks.fingerprint(a) != chunks.fingerprint(b)
    assert chunks.fingerprint(torch.zeros(2)) != chunks.fingerprint(torch.zeros(3))
    with pytest.raises(TypeError, match="obj"):
        chunks.fingerprint("weights")
    bn = torch.nn.BatchNorm1d(3)  # its num_batches_tracked is a 0-d integer tensor
    assert len(chunks.fingerprint(bn)) == 64
    assert chunks.fingerprint(torch.tensor(5)) != chunks.fingerprint(torch.tensor(6))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"name": "a b"}, ValueError, "name"),
        ({"name": ""}, ValueError, "name"),
        ({"chunk": 0}, ValueError, "chunk"),
        ({"model": "net"}, TypeError, "model"),
        ({"settings": {"f": object()}}, TypeError, "settings"),
        ({"fn": 3}, TypeError, "fn"),
        ({"fn": lambda x, y: [x]}, TypeError, "dict of tensors"),
        ({"fn": lambda x, y: {"a": y[:1]}}, ValueError, "rows"),
    ],
)
def test_bad_input_is_named(tmp_path, kwargs, error, words):
    net, (x, y) = _net(), _data()
    kw = {"fn": Counting(net), "name": "e", "model": net, "folder": tmp_path}
    kw.update(kwargs)
    with pytest.raises(error, match=words):
        chunks.evaluate(kw.pop("fn"), x, y, show_progress=False, **kw)


def test_inputs_must_share_their_length():
    net, (x, y) = _net(), _data()
    with pytest.raises(ValueError, match="first dimension"):
        chunks.evaluate(Counting(net), x, y[:3], name="e", model=net)
    with pytest.raises(TypeError, match="inputs"):
        chunks.evaluate(Counting(net), name="e", model=net)


MISUSE = cases(
    "chunks",
    {
        "evaluate:name": (
            lambda: chunks.evaluate(lambda x: {"a": x}, torch.zeros(2), name="a b",
                                    model=_net()),
            ValueError,
            "name must be",
        ),
        "evaluate:model": (
            lambda: chunks.evaluate(lambda x: {"a": x}, torch.zeros(2), name="a",
                                    model="net"),
            TypeError,
            "model",
        ),
        "outcomes:folder": (lambda: chunks.outcomes(3), TypeError, "folder must be"),
        "fingerprint:obj": (
            lambda: chunks.fingerprint("weights"),
            TypeError,
            "obj must be",
        ),
    },
)  # fmt: skip
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


class Seen(Counting):
    """Counting, and the first row's label of each call: which chunk, in which order."""

    def __init__(self, net):
        super().__init__(net)
        self.firsts = []

    def __call__(self, x, y):
        out = super().__call__(x, y)
        self.firsts.append(int(y[0]))
        return out


def test_two_processes_share_an_evaluation_from_either_end(tmp_path, monkeypatch):
    net, (x, _) = _net(), _data()
    y = torch.arange(10) % 3
    idx = torch.arange(10)  # a chunk is known by its first row's index
    run = dict(name="e", model=net, chunk=4, folder=tmp_path, show_progress=False)
    monkeypatch.setenv(chunks.ORDER_ENV, "reverse")
    back = Seen(net)
    with pytest.raises(KeyboardInterrupt):  # the second process stops after 2 chunks
        back.fail_on = 3
        chunks.evaluate(lambda a, b, i: back(a, i), x, y, idx, **run)
    assert back.firsts == [8, 4]
    monkeypatch.setenv(chunks.ORDER_ENV, "forward")
    ahead = Seen(net)
    out = chunks.evaluate(lambda a, b, i: ahead(a, i), x, y, idx, **run)
    assert ahead.firsts == [0]  # the other two were kept by the reverse process
    whole = Counting(net)(x, idx)
    assert torch.equal(out["label"], idx)  # the chunks in the inputs' order
    assert torch.allclose(out["logits"], whole["logits"])


def test_the_chunk_order_must_be_forward_or_reverse(tmp_path, monkeypatch):
    net, (x, y) = _net(), _data()
    monkeypatch.setenv(chunks.ORDER_ENV, "backwards")
    with pytest.raises(ValueError, match="ROBUSTCORE_CHUNK_ORDER must be"):
        chunks.evaluate(Counting(net), x, y, name="e", model=net, folder=tmp_path)
