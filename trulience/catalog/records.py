"""Typed records that cross the catalog boundary (one per table the code reads)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    slug: str
    name: str
    description: str
    status: str
    settings: dict
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Character:
    id: int
    slug: str
    name: str
    metadata: dict
    metadata_version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SourceImage:
    id: int
    character_id: int
    original_name: str
    version: int
    uri: str
    sha256: str
    width: int
    height: int
    format: str
    qa_status: str
    qa: dict
    is_primary: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SceneType:
    id: int
    slug: str
    name: str
    parent_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SceneTypeVersion:
    id: int
    scene_type_id: int
    version: int
    workflow_id: int | None
    prompt_template: str | None
    negative_prompt: str | None
    target_duration_s: Decimal | None
    segment_duration_s: Decimal | None
    fps: Decimal | None
    width: int | None
    height: int | None
    seed_policy: str | None
    qa_rules: dict | None
    presets: dict
    seed: int | None
    preset: str | None
    params: dict | None
    created_at: datetime
    preview: dict | None = None  # preview resolution and the final's method (0032)


@dataclass(frozen=True, slots=True)
class Take:
    id: int
    project_id: int
    character_id: int
    scene_type_id: int
    scene_type_version_id: int
    take: int
    status: str
    uri: str | None
    sha256: str | None
    frames: int | None
    control: str
    effective_config: dict
    planned_segments: int | None
    failure: str | None
    created_at: datetime
    updated_at: datetime
    stage: str | None = None  # 'preview' / 'final' (0032); None: made at full size only


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    scene_id: int
    index: int
    attempt: int
    status: str
    uri: str | None
    sha256: str | None
    frames: int | None
    qa: dict
    provenance: dict
    current: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Tag:
    id: int
    name: str
    color: str | None


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    author_id: int
    parent_id: int | None
    body: str
    status: str
    frame: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    table_name: str
    row_key: str
    action: str
    before: dict | None
    after: dict | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str  # character | note
    key: str  # character slug, or note id
    title: str
    snippet: str
    rank: float


@dataclass(frozen=True, slots=True)
class Workflow:
    id: int
    name: str
    version: int
    sha256: str
    graph: dict
    slots: dict
    description: str
    created_at: datetime
