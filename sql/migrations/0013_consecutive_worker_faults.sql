-- Worker faults are consecutive (issue 12, section 4): a finished segment or a passing health
-- check resets the count, so three blips hours apart never take a good worker offline.
COMMENT ON COLUMN workers.failures IS
    'consecutive faults (failed health checks, segments lost on the worker) since its last success';

-- A prompt interrupted on a worker that answered (by another client, or an operator's global
-- interrupt) is nobody's fault: its lease ends as interrupted, not as worker_lost.
ALTER TABLE worker_leases
    DROP CONSTRAINT worker_leases_outcome_known,
    ADD CONSTRAINT worker_leases_outcome_known
        CHECK (outcome IN ('done', 'failed', 'expired', 'worker_lost', 'interrupted'));
