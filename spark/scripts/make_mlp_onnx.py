#!/usr/bin/env python3
"""Writes a random-weight MLP (784-1024-...-1024-10, ReLU) as ONNX for spark/run's throughput measurements.

Usage: /usr/bin/python3 spark/scripts/make_mlp_onnx.py OUT.onnx [HIDDEN]   (Debian's torch 1.13; seed 0, opset 17)
HIDDEN: how many hidden layers of 1024 (default 2: 784-1024-1024-10; spark/cluster-throughput uses 3).
"""
import sys

import torch

hidden = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.manual_seed(0)
layers = []
width = 784
for _ in range(hidden):
    layers += [torch.nn.Linear(width, 1024), torch.nn.ReLU()]
    width = 1024
model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))
torch.onnx.export(model, torch.zeros(1, 784), sys.argv[1], opset_version=17, input_names=["input"],
                  output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
