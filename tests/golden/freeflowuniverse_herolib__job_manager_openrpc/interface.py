# SERVICE: job_manager
# SUMMARY: OpenRPC specification for the JobManager module which handles job operations.
# ENDPOINT: http://localhost:8080/rpc
# USAGE: from job_manager import JobManager; job_manager = JobManager.connect()
class JobManager:
    def new_job() -> Job: """Create a new Job instance"""
    def set_job(job: Job) -> bool: """Add or update a Job in the system (Redis)"""
    def get_job(guid: str) -> Job
    def list_jobs() -> list[Job]
    def delete_job(guid: str) -> bool: """Remove a Job by its GUID"""
    def update_job_status(guid: str, status: Status) -> Job
class Job: guid, source?, circle?, context?, actor?, action?: str; agents?: list[str]; params?: dict[str, str]
    timeout_schedule?, timeout?, retry?: int; log?, ignore_error?, debug?: bool; ignore_error_codes?: list[int]
    status: JobStatus; dependencies?: list[JobDependency]
class JobStatus: guid, created, start?, end?: str; status: Status
class JobDependency: guid: str; agents?: list[str]
Status = "created"|"scheduled"|"planned"|"running"|"error"|"ok"
