"""参考答案 ex05 / Reference solution ex05 (D2L 2.5.4). Not shipped to students."""
import torch


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
