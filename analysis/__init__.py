"""Pure psychometric analysis: classical test theory, IRT, information, equating, DIF.

No database, web or document imports here (see docs/ARCHITECTURE.md).
"""
