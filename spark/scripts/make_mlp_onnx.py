#!/usr/bin/env python3
"""Writes a random-weight MLP (784-1024-1024-10, ReLU) as ONNX for spark/run's throughput measurement.

Usage: /usr/bin/python3 spark/scripts/make_mlp_onnx.py OUT.onnx   (Debian's torch 1.13; seed 0, opset 17)
"""
import sys

import torch

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(784, 1024), torch.nn.ReLU(),
    torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
    torch.nn.Linear(1024, 10))
torch.onnx.export(model, torch.zeros(1, 784), sys.argv[1], opset_version=17, input_names=["input"],
                  output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
