"""Settings of the lifecycle modules, read from the environment (prefix ``ITEMBANK_LIFECYCLE_``)
or a ``.env`` file; services take them as a keyword argument so tests pass their own."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LifecycleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITEMBANK_LIFECYCLE_", env_file=".env", extra="ignore")

    institution: str = "职业技能等级认定中心"
    """评价机构 printed on certificates and admission tickets (附件3 第11条)."""

    # certificate code segments of the default layout (lifecycle.codes.DEFAULT_LAYOUT)
    organisation_kind: str = "Y"
    """Y: employer (用人单位) or S: social training and evaluation organisation (社会培训评价组织)."""
    organisation_code: str = "0001"
    province_code: str = "32"
    site_serial: str = "000001"

    institution_code: str = "3205000000001"
    """13-digit institution code of examiner and supervisor cards (附件2 第16条, 附件10 第13条)."""

    qr_secret: SecretStr | None = None
    """HMAC key signing certificate QR payloads; keep it out of the repository. Unset: derived
    from the seal master key (``lifecycle.keys.qr_secret``)."""
    verify_url: str = "https://cert.example.org/verify"

    publication_working_days: int = Field(5, ge=1)
    """附件1 第26条: results are published for 5 working days before release."""
    retention_years: int = Field(2, ge=2)
    """附件1 第29条: records are kept for at least 2 years."""
    disagreement_share: float = Field(0.10, gt=0, le=1)
    """Examiner scores of one item disagreeing by more than this share of its points are flagged."""
    multiple_choice_partial_credit: bool = False
    """False: a multiple choice item scores only when exactly the key is chosen."""
    pass_mark: float = 60.0

    seal_master_key: SecretStr | None = None
    """Base64 of the 32-byte master key wrapping each sealed paper's key. Unset: the key file."""
    seal_key_file: str = "itembank-seal.key"
    """Where the master key is kept when ``seal_master_key`` is unset (created 0600 on first use)."""
    opening_lead_min: int = Field(30, ge=0, le=240)
    """Sealed papers may be opened from this many minutes before the session starts
    (附件7 第2条(3): proctors fetch the papers 30 minutes before)."""
