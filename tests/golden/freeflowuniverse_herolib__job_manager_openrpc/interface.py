# SERVICE: job_manager
# SUMMARY: OpenRPC specification for the JobManager module which handles job operations.
# ENDPOINT: http://localhost:8080/rpc
# USAGE: from job_manager import JobManager; job_manager = JobManager.connect()
# Models are pydantic (read fields as attributes; pass a model or a dict). `f?: T` may be None.
class JobManager:
    def new_job() -> Job: """Create a new Job instance"""
    def set_job(job: Job) -> bool: """Add or update a Job in the system (Redis)"""
    def get_job(guid: str) -> Job: ...
    def list_jobs() -> list[Job]: ...
    def delete_job(guid: str) -> bool: """Remove a Job by its GUID"""
    def update_job_status(guid: str, status: Status) -> Job: ...
class Job:
    guid: str; agents?: list[str]; source?: str; circle?: str; context?: str; actor?: str; action?: str
    params?: dict[str, str]; timeout_schedule?: int; timeout?: int; log?: bool; ignore_error?: bool
    ignore_error_codes?: list[int]; debug?: bool; retry?: int; status: JobStatus; dependencies?: list[JobDependency]
class JobStatus: guid: str; created: str; start?: str; end?: str; status: Status
class JobDependency: guid: str; agents?: list[str]
Status = Literal["created", "scheduled", "planned", "running", "error", "ok"]
# Errors: JsonRpcError (.code, .message, .data)
