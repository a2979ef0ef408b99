"""Typed errors the engine raises; the server maps each to a gRPC status code."""


class EngineError(Exception):
    """Base class of every error the engine reports to its callers."""


class ValidationError(EngineError, ValueError):
    """A malformed request (maps to INVALID_ARGUMENT)."""


class PreconditionError(EngineError):
    """The request is well formed but the engine state refuses it (FAILED_PRECONDITION)."""


class NotFoundError(EngineError):
    """A path or resource named by the request does not exist (NOT_FOUND)."""
