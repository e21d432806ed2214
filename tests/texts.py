"""Made-up item texts for test stocks: distinct, so that no two items of a stock repeat each
other or give each other away (the similarity check keeps such pairs off one paper, and a
stock of one question asked 120 times could not make a paper)."""

from __future__ import annotations

import random

CHARS = "安全电压接地保护线路绝缘电阻电流功率变压器开关熔断器导线截面照明插座电动机控制触电急救兆欧表钳形万用仪表"


def made_up(rng: random.Random, n: int) -> str:
    """``n`` characters drawn from the electrician's vocabulary (two such texts share almost
    no three characters in a row)."""
    return "".join(rng.choice(CHARS) for _ in range(n))
