"""Pydantic model of an OpenRPC document (1.0.0-rc1 … 1.4), after reference resolution.

The model describes the document *after* :mod:`aibroker.openrpc.refs` has replaced every
``$ref`` to content descriptors, errors, tags, examples, example pairings and links by its
target. JSON Schemas stay raw dictionaries: JSON Schema is too loose to model usefully, and
the code generator walks them directly, turning ``#/components/schemas/X`` references into
named models.

Every object keeps unknown keys (``extra="allow"``) so ``x-`` extensions survive a round
trip; :attr:`OpenRpcObject.extensions` returns just those.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

JsonSchema = dict[str, Any] | bool
"""A JSON Schema (draft-07) as found in the document: an object, or ``true``/``false``."""

ParamStructure = Literal["by-name", "by-position", "either"]


class OpenRpcObject(BaseModel):
    """Base of every OpenRPC object: keeps extra keys, accepts field names or aliases."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)

    @property
    def extensions(self) -> dict[str, Any]:
        """The ``x-`` specification extensions present on this object."""
        extra = self.model_extra or {}
        return {key: value for key, value in extra.items() if key.startswith("x-")}


class Contact(OpenRpcObject):
    name: str | None = None
    url: str | None = None
    email: str | None = None


class License(OpenRpcObject):
    name: str | None = None  # the meta-schema requires nothing here; starknet writes {}
    url: str | None = None


class Info(OpenRpcObject):
    title: str
    version: str
    description: str | None = None
    summary: str | None = None
    terms_of_service: str | None = Field(default=None, alias="termsOfService")
    contact: Contact | None = None
    license: License | None = None


class ExternalDocs(OpenRpcObject):
    url: str
    description: str | None = None


class ServerVariable(OpenRpcObject):
    default: str
    enum: list[str] | None = None
    description: str | None = None


class Server(OpenRpcObject):
    url: str
    name: str | None = None
    summary: str | None = None
    description: str | None = None
    variables: dict[str, ServerVariable] = Field(default_factory=dict)


class Tag(OpenRpcObject):
    name: str
    summary: str | None = None
    description: str | None = None
    external_docs: ExternalDocs | None = Field(default=None, alias="externalDocs")


class ContentDescriptor(OpenRpcObject):
    """A named parameter or result together with its JSON Schema."""

    name: str
    schema_: JsonSchema = Field(default=True, alias="schema")
    summary: str | None = None
    description: str | None = None
    required: bool = False
    deprecated: bool = False


class ErrorObject(OpenRpcObject):
    """An application error a method may return (JSON-RPC error object)."""

    code: int
    message: str
    data: Any = None


class Example(OpenRpcObject):
    """One example value (a parameter value or a result value)."""

    name: str | None = None
    summary: str | None = None
    description: str | None = None
    value: Any = None
    external_value: str | None = Field(default=None, alias="externalValue")


class ExamplePairing(OpenRpcObject):
    """A set of example params and the result they produce."""

    name: str | None = None
    summary: str | None = None
    description: str | None = None
    params: list[Example] = Field(default_factory=list)
    result: Example | None = None


class Link(OpenRpcObject):
    name: str | None = None
    summary: str | None = None
    description: str | None = None
    method: str | None = None
    params: Any = None
    server: Server | None = None


class Method(OpenRpcObject):
    """One RPC method. A method without ``result`` is a notification (no reply expected)."""

    name: str
    params: list[ContentDescriptor] = Field(default_factory=list)
    result: ContentDescriptor | None = None
    summary: str | None = None
    description: str | None = None
    tags: list[Tag] = Field(default_factory=list)
    param_structure: ParamStructure = Field(default="either", alias="paramStructure")
    errors: list[ErrorObject] = Field(default_factory=list)
    examples: list[ExamplePairing] = Field(default_factory=list)
    deprecated: bool = False
    servers: list[Server] | None = None
    links: list[Link] = Field(default_factory=list)
    external_docs: ExternalDocs | None = Field(default=None, alias="externalDocs")

    @property
    def is_notification(self) -> bool:
        """True when the method declares no result, so callers expect no reply."""
        return self.result is None


class Components(OpenRpcObject):
    schemas: dict[str, JsonSchema] = Field(default_factory=dict)
    content_descriptors: dict[str, ContentDescriptor] = Field(
        default_factory=dict, alias="contentDescriptors"
    )
    examples: dict[str, Example] = Field(default_factory=dict)
    links: dict[str, Link] = Field(default_factory=dict)
    errors: dict[str, ErrorObject] = Field(default_factory=dict)
    example_pairings: dict[str, ExamplePairing] = Field(
        default_factory=dict,
        alias="examplePairings",
        # The meta-schema (1.14) names the field ``examplePairings``; some documents and older
        # drafts write ``examplePairingObjects``. Both are read, ``examplePairings`` is written.
        validation_alias=AliasChoices("examplePairings", "examplePairingObjects"),
    )
    tags: dict[str, Tag] = Field(default_factory=dict)


class OpenRpcDocument(OpenRpcObject):
    """A whole OpenRPC document with its references resolved (schemas excepted)."""

    openrpc: str
    info: Info
    methods: list[Method] = Field(default_factory=list)
    servers: list[Server] = Field(default_factory=list)
    components: Components = Field(default_factory=Components)
    external_docs: ExternalDocs | None = Field(default=None, alias="externalDocs")
