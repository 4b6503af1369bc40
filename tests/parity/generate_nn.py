#!/usr/bin/python3
"""Writes the nn parity fixtures that tests/parity/test_nn_parity.cpp compares against.

Run with Debian's python3 (it has torch):  /usr/bin/python3 tests/parity/generate_nn.py

For each case below, a torch.nn module (or loss) with small seeded parameters runs one forward on
small seeded inputs, then one backward of the output with a seeded upstream gradient `dout`.
One .safetensors file per case, written by hand in the format of core/safetensors.hpp (the
`safetensors` package is not installed here), holds:

  param.<name>        the module's parameters, under torch's state_dict names (so our
                      load_state_dict takes them after stripping "param.")
  input.<name>        the inputs (ids, targets and masks as float32: masks are 1 where torch's
                      bool mask is True)
  dout                the upstream gradient of the output
  output, weights     torch's output (and MultiheadAttention's attention weights)
  grad.<name>         the gradient of every input and parameter ("grad.input.x", "grad.param.bias")
  metadata            the module's options, for the reader; "torch" its version

The C++ test needs neither Python nor torch: only these committed files.
"""
import os

import torch

from safetensors_writer import write_safetensors

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def run(module, inputs, call, gen, metadata):
    """Forward `call(module, inputs)` -> (output, weights or None), backward with a seeded dout;
    returns the fixture's tensors. Float inputs get gradients; the others (ids, masks) do not."""
    for p in module.parameters():  # non-trivial values everywhere, also where torch starts at 0 or 1
        with torch.no_grad():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    grads_for = {n: t.requires_grad_() for n, t in inputs.items() if n in ("x", "query", "key", "value", "logits")}
    output, weights = call(module, inputs)
    dout = torch.randn(output.shape, generator=gen)
    output.backward(dout)

    tensors = {f"param.{n}": p.detach().clone() for n, p in module.state_dict().items()}
    tensors.update({f"input.{n}": t.detach().clone().float() for n, t in inputs.items()})
    tensors["dout"] = dout
    tensors["output"] = output.detach()
    if weights is not None:
        tensors["weights"] = weights.detach()
    tensors.update({f"grad.input.{n}": t.grad for n, t in grads_for.items()})
    tensors.update({f"grad.param.{n}": p.grad for n, p in module.named_parameters()})
    metadata = {k: str(v) for k, v in metadata.items()}
    metadata["torch"] = torch.__version__
    return tensors, metadata


def linear(gen):
    m = torch.nn.Linear(5, 3)
    x = torch.randn(2, 4, 5, generator=gen)
    return run(m, {"x": x}, lambda m, i: (m(i["x"]), None), gen, {"in_features": 5, "out_features": 3})


def embedding_padding(gen):
    m = torch.nn.Embedding(6, 4, padding_idx=2)
    ids = torch.tensor([[1, 2, 5, 1], [2, 0, 3, 1]])  # repeats, and the padding id twice
    tensors, metadata = run(m, {"ids": ids}, lambda m, i: (m(i["ids"]), None), gen,
                            {"num_embeddings": 6, "embedding_dim": 4, "padding_idx": 2})
    assert torch.all(tensors["grad.param.weight"][2] == 0)
    return tensors, metadata


def layer_norm(gen):
    m = torch.nn.LayerNorm(7, eps=1e-5)
    x = torch.randn(3, 2, 7, generator=gen) * 2 + 3  # an offset and a scale to normalise away
    return run(m, {"x": x}, lambda m, i: (m(i["x"]), None), gen, {"normalized_shape": 7, "eps": 1e-5})


def mha(gen, T, S, self_attention, **masks):
    """MultiheadAttention(D=8, H=2, batch_first) on [B=2, T, 8] queries over [2, S, 8] keys/values."""
    m = torch.nn.MultiheadAttention(8, 2, dropout=0.0, bias=True, batch_first=True)
    m.eval()  # dropout 0 anyway; also the state our test puts its module in
    inputs = {"x": torch.randn(2, T, 8, generator=gen)} if self_attention else {
        "query": torch.randn(2, T, 8, generator=gen), "key": torch.randn(2, S, 8, generator=gen),
        "value": torch.randn(2, S, 8, generator=gen)}
    inputs.update(masks)
    average = "key_padding_mask" in masks  # one case each way

    def call(m, i):
        q, k, v = (i["x"],) * 3 if self_attention else (i["query"], i["key"], i["value"])
        return m(q, k, v, key_padding_mask=i.get("key_padding_mask"), attn_mask=i.get("attn_mask"),
                 need_weights=True, average_attn_weights=average)

    return run(m, inputs, call, gen, {"embed_dim": 8, "num_heads": 2, "average_attn_weights": average})


def mha_key_padding(gen):
    # batch 0 pads its last two keys, batch 1 its first one; no query loses every key
    padding = torch.tensor([[False, False, False, True, True], [True, False, False, False, False]])
    return mha(gen, 5, 5, True, key_padding_mask=padding)


def mha_causal(gen):
    # torch 1.13 has no is_causal: the causal mask is the bool attn_mask True above the diagonal
    causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
    return mha(gen, 4, 4, True, attn_mask=causal)


def mha_cross_additive(gen):
    # T = 3 queries over S = 4 keys from other tensors, with a float (additive) attn_mask
    additive = torch.tensor([[0.0, -1.0, 0.5, float("-inf")], [0.3, 0.0, 0.0, 0.0], [-2.0, 1.0, 0.0, 0.25]])
    return mha(gen, 3, 4, False, attn_mask=additive)


def cross_entropy(gen, **options):
    m = torch.nn.CrossEntropyLoss(**options)
    logits = torch.randn(6, 5, generator=gen)
    targets = torch.tensor([0, 4, -100, 2, 2, 1])  # one ignored row (ignore_index -100)
    # the class weights are a buffer: in the state dict (param.weight), not among the parameters
    return run(m, {"logits": logits, "targets": targets}, lambda m, i: (m(i["logits"], i["targets"]), None), gen,
               {k: v.tolist() if torch.is_tensor(v) else v for k, v in options.items()})


CASES = {
    "linear": linear,
    "embedding_padding": embedding_padding,
    "layer_norm": layer_norm,
    "mha_key_padding": mha_key_padding,
    "mha_causal": mha_causal,
    "mha_cross_additive": mha_cross_additive,
    "cross_entropy_smoothing": lambda gen: cross_entropy(gen, ignore_index=-100, label_smoothing=0.1),
    "cross_entropy_weighted": lambda gen: cross_entropy(gen, weight=torch.tensor([1.0, 2.0, 0.5, 1.5, 0.25]),
                                                        ignore_index=-100, label_smoothing=0.2),
}


def main():
    os.makedirs(HERE, exist_ok=True)
    for name, make in CASES.items():
        gen = torch.Generator().manual_seed(1234)
        torch.manual_seed(1234)  # torch's own initialisation, overwritten by run() anyway
        tensors, metadata = make(gen)
        path = os.path.join(HERE, f"nn_{name}.safetensors")
        write_safetensors(path, tensors, metadata)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
