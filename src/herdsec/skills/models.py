"""Tables of the skills module: the role catalogue (NICE, ECSF, the hub's custom roles), statements, the crosswalk,
and what members upload (job postings, training programmes with their courses)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from herdsec.core.clock import utcnow
from herdsec.core.db import Base, UTCDateTime


class SkillGroup(Base):
    """A NICE work-role category (``OG``) or competency area (``NF-COM-001``)."""

    __tablename__ = "skill_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(200))
    name_vi: Mapped[str | None] = mapped_column(String(200))
    text_en: Mapped[str] = mapped_column(Text, default="")
    text_vi: Mapped[str | None] = mapped_column(Text)


class SkillRole(Base):
    """A work role: NICE (``framework='nice'``), an ECSF profile (``'ecsf'``) or a coordinator's custom role
    (``'custom'``). ``name_vi`` of catalogue roles is the hub's own translation (``details['vi_source']``)."""

    __tablename__ = "skill_roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    framework: Mapped[str] = mapped_column(String(10), index=True)
    version: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(200))
    name_vi: Mapped[str | None] = mapped_column(String(200))
    text_en: Mapped[str] = mapped_column(Text, default="")
    text_vi: Mapped[str | None] = mapped_column(Text)
    opm_codes: Mapped[str] = mapped_column(String(60), default="")
    legacy_codes: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    statements: Mapped[list[SkillStatement]] = relationship(
        secondary="skill_role_statements", order_by="SkillStatement.code", viewonly=True
    )


class SkillStatement(Base):
    """A task, knowledge or skill statement (``T0084``, ``K1082``, ``S0432``)."""

    __tablename__ = "skill_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    version: Mapped[str] = mapped_column(String(20))
    text_en: Mapped[str] = mapped_column(Text)
    text_vi: Mapped[str | None] = mapped_column(Text)


class SkillRoleStatement(Base):
    __tablename__ = "skill_role_statements"

    role_id: Mapped[int] = mapped_column(ForeignKey("skill_roles.id", ondelete="CASCADE"), primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("skill_statements.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SkillCrosswalk(Base):
    """A typed link between an ECSF profile and a NICE role, with a one-line rationale in both languages."""

    __tablename__ = "skill_crosswalk"
    __table_args__ = (UniqueConstraint("ecsf_role_id", "nice_role_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ecsf_role_id: Mapped[int] = mapped_column(ForeignKey("skill_roles.id", ondelete="CASCADE"))
    nice_role_id: Mapped[int] = mapped_column(ForeignKey("skill_roles.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(12))
    rationale_en: Mapped[str] = mapped_column(String(400))
    rationale_vi: Mapped[str] = mapped_column(String(400))


class SkillPosting(Base):
    """A job posting a member uploaded, with the roles it matched (best first) for the market view."""

    __tablename__ = "skill_postings"
    __table_args__ = (
        UniqueConstraint("org_id", "external_id"),
        Index("ix_skill_postings_role_province", "best_role", "province"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    external_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    employer: Mapped[str | None] = mapped_column(String(200))
    province: Mapped[str | None] = mapped_column(String(80))
    sector: Mapped[str | None] = mapped_column(String(80))
    posted_on: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(5))
    best_role: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SkillProgramme(Base):
    """A university's or training centre's programme; its courses carry the learning outcomes."""

    __tablename__ = "skill_programmes"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    province: Mapped[str | None] = mapped_column(String(80))
    graduates_per_year: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    courses: Mapped[list[SkillCourse]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="SkillCourse.id"
    )


class SkillCourse(Base):
    __tablename__ = "skill_courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("skill_programmes.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    outcomes: Mapped[str] = mapped_column(Text, default="")
    statements: Mapped[list[str]] = mapped_column(JSON, default=list)

    programme: Mapped[SkillProgramme] = relationship(back_populates="courses")
