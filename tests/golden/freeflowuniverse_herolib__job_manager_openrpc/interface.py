# SERVICE: job_manager
# SUMMARY: OpenRPC specification for the JobManager module which handles job operations.
# ENDPOINT: http://localhost:8080/rpc
# USAGE: from job_manager import JobManager; job_manager = JobManager.connect()
# Results are the models below (use attributes; fields typed `X | None` may be absent). A failed call raises JsonRpcError (.code, .message, .data).
class JobManager:
    def new_job() -> Job: """Create a new Job instance"""
    def set_job(job: Job) -> bool: """Add or update a Job in the system (Redis)"""
    def get_job(guid: str) -> Job: """Retrieve a Job by its GUID"""
    def list_jobs() -> list[Job]: """List all Jobs"""
    def delete_job(guid: str) -> bool: """Remove a Job by its GUID"""
    def update_job_status(guid: str, status: Status) -> Job: """Update the status of a Job"""


class Job(BaseModel):
    guid: str
    agents: list[str] | None
    source: str | None
    circle: str | None
    context: str | None
    actor: str | None
    action: str | None
    params: dict[str, str] | None
    timeout_schedule: int | None
    timeout: int | None
    log: bool | None
    ignore_error: bool | None
    ignore_error_codes: list[int] | None
    debug: bool | None
    retry: int | None
    status: JobStatus
    dependencies: list[JobDependency] | None
class JobStatus(BaseModel): guid: str; created: str; start: str | None; end: str | None; status: Status
class JobDependency(BaseModel): guid: str; agents: list[str] | None
Status = Literal["created", "scheduled", "planned", "running", "error", "ok"]

