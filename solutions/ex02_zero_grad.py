"""参考答案 ex02 / Reference solution ex02 (D2L 2.5.1). Not shipped to students."""
import torch


def zero_then_sum(x):
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    # 在默认情况下，PyTorch会累积梯度，我们需要清除之前的值
    x.grad.zero_()
    y = x.sum()
    y.backward()
    return y
