"""Exceptions raised by core/. Pages and the CLI turn them into one line naming the file."""


class TunesmithError(Exception):
    """Base class of every error core/ raises on purpose."""


class InvalidMusicError(TunesmithError, ValueError):
    """A symbolic music file (MIDI, MusicXML, ABC) that cannot be used, and why."""


class FileTooLargeError(InvalidMusicError):
    """A file above the documented size limit."""


class InvalidAudioError(TunesmithError, ValueError):
    """An audio file that cannot be decoded or transcribed, and why."""


class InvalidModelError(TunesmithError, ValueError):
    """A model folder that is incomplete, corrupt or from an incompatible version."""


class JobCancelled(TunesmithError):
    """Raised inside long work when the user asked to stop it."""


class EvaluationError(TunesmithError, ValueError):
    """Pieces or a model that cannot be judged (too few notes, no held-out data), and why."""


class JobQuotaError(TunesmithError):
    """A workspace asked for more training jobs than its quota allows."""


class QuotaError(TunesmithError):
    """A workspace or the whole data directory would pass its disk quota."""


class StorageError(TunesmithError, OSError):
    """The data directory cannot be written (read-only, full or gone), in plain words."""


class JobRunnerError(TunesmithError, ValueError):
    """`TUNESMITH_JOB_RUNNER` names no usable runner."""


class JobQueueError(TunesmithError):
    """The shared job queue (Redis) cannot be reached: nothing was queued."""


class InvalidSoundfontError(TunesmithError, ValueError):
    """A file that is not a usable SoundFont 2 (.sf2), and why."""


class InvalidLinkError(TunesmithError, ValueError):
    """A share link that cannot be played, and which part of it is wrong."""


class NotShareableError(TunesmithError, ValueError):
    """A piece whose recipe cannot travel by URL (a user's own model, a long primer)."""


class InvalidSettingError(TunesmithError, ValueError):
    """A setting a person chose (a length, a key, a grid, a name) is out of range or misfits."""


class TrainingDataError(TunesmithError, ValueError):
    """Music that cannot be trained on as it is (too few pieces, another grid than the base's)."""


class MusicLimitError(FileTooLargeError):
    """A music file that passes a limit of this server other than its size in bytes: its notes,
    its MIDI events, its length in beats, the files packed in it. Like every FileTooLargeError,
    a refusal by a limit, not by what the file is: a higher limit may accept it."""


class MetadataError(ValueError):
    """A file of a model folder that cannot be used; the message names the file and the field.
    Raised by core.model.metadata and turned there into an InvalidModelError naming the model."""
