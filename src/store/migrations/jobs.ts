import type { Migration } from './migration.js';

/**
 * Jobs, child jobs, output records, Receive-Job read positions, channel variables and the record
 * of what was posted to chat (ids 200-299). Job and child Ids share one counter, as PowerShell's
 * process-wide job Id counter does (parent N, children N+1...).
 */
export const JOB_MIGRATIONS: Migration[] = [
  {
    id: 200,
    name: 'jobs, child jobs, output, channel variables, posts',
    sql: `
      CREATE TABLE job_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO job_counters (name, value) VALUES ('job_id', 0);

      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        instance_id TEXT NOT NULL UNIQUE,
        job_type TEXT NOT NULL DEFAULT 'RemoteJob',
        state TEXT NOT NULL,
        reason TEXT,
        location TEXT NOT NULL,
        command TEXT NOT NULL,
        channel TEXT NOT NULL,
        invoked_by TEXT NOT NULL,
        invoked_by_id TEXT NOT NULL,
        as_job INTEGER NOT NULL,
        hide_computer_name INTEGER NOT NULL,
        throttle_limit INTEGER NOT NULL,
        stop_requested INTEGER NOT NULL DEFAULT 0,
        begin_time TEXT,
        end_time TEXT,
        not_posted TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX jobs_channel ON jobs (channel, id);

      CREATE TABLE child_jobs (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        instance_id TEXT NOT NULL UNIQUE,
        computer TEXT NOT NULL,
        agent TEXT,
        run_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        reason TEXT,
        exit_code INTEGER,
        configuration_name TEXT,
        dispatched INTEGER NOT NULL DEFAULT 0,
        read_upto INTEGER NOT NULL DEFAULT 0,
        begin_time TEXT,
        end_time TEXT
      );
      CREATE INDEX child_jobs_parent ON child_jobs (parent_id, position);
      CREATE INDEX child_jobs_active ON child_jobs (state, agent);

      CREATE TABLE job_runs (
        job_id INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
        script TEXT NOT NULL,
        arguments TEXT NOT NULL,
        using_values TEXT NOT NULL,
        configuration_name TEXT,
        runbook TEXT,
        max_runtime_ms INTEGER NOT NULL
      );

      CREATE TABLE job_output (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        child_id INTEGER NOT NULL,
        computer TEXT NOT NULL,
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        stream TEXT NOT NULL,
        data TEXT NOT NULL,
        at INTEGER NOT NULL,
        UNIQUE (run_id, seq)
      );
      CREATE INDEX job_output_child ON job_output (child_id, id);

      CREATE TABLE channel_variables (
        channel TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, name)
      );

      CREATE TABLE job_posts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        what TEXT NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT,
        at TEXT NOT NULL
      );
    `,
  },
  {
    id: 201,
    name: 'pending stops, retention',
    sql: `
      -- No foreign key: a pending stop outlives its job (Remove-Job -Force, retention).
      CREATE TABLE pending_stops (
        run_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        expires_at TEXT
      );
      CREATE INDEX pending_stops_agent ON pending_stops (agent);
      CREATE INDEX jobs_end_time ON jobs (end_time) WHERE end_time IS NOT NULL;
    `,
  },
  {
    id: 202,
    name: 'status messages a restarted bot picks up',
    sql: `
      ALTER TABLE jobs ADD COLUMN status_handle TEXT;
      ALTER TABLE jobs ADD COLUMN status_shows_results INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX jobs_live_status ON jobs (id) WHERE status_handle IS NOT NULL;
    `,
  },
  {
    id: 203,
    name: "output limits: nothing after a run's final state, bytes stored per run",
    sql: `
      -- The seq of the run's final state as the agent sent it: later seqs are refused.
      ALTER TABLE child_jobs ADD COLUMN final_seq INTEGER;
      ALTER TABLE child_jobs ADD COLUMN output_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE child_jobs ADD COLUMN output_cut INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    id: 204,
    name: 'when a Disconnected child is given up (AGENT_LOST_GRACE), for the status',
    sql: `
      ALTER TABLE child_jobs ADD COLUMN lost_deadline TEXT;
    `,
  },
  {
    id: 205,
    name: "a job's status thread (kept after it finished) and who stopped it",
    sql: `
      -- The status message's handle, kept for good (status_handle is cleared once drawn): a
      -- typed Receive-Job posts in that message's thread.
      ALTER TABLE jobs ADD COLUMN thread_handle TEXT;
      -- Display name of who stopped the job (Stop-Job or the status message's button).
      ALTER TABLE jobs ADD COLUMN stopped_by TEXT;
    `,
  },
  {
    id: 206,
    name: 'sessions (New-PSSession) and the sessions a job runs in',
    sql: `
      -- One row per PowerShell session: Ids from their own counter (PowerShell numbers sessions
      -- apart from jobs), owned by a channel as its jobs are.
      INSERT INTO job_counters (name, value) VALUES ('session_id', 0);
      CREATE TABLE ps_sessions (
        id INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        channel TEXT NOT NULL,
        computer TEXT NOT NULL,
        agent TEXT NOT NULL,
        configuration_name TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        idle_timeout_ms INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX ps_sessions_channel ON ps_sessions (channel, id);
      CREATE INDEX ps_sessions_agent ON ps_sessions (agent);
      -- Invoke-Command -Session: the session each computer's child runs in (JSON, by computer).
      ALTER TABLE job_runs ADD COLUMN sessions TEXT;
    `,
  },
  {
    id: 207,
    name: "a session's last command (Receive-PSSession reads its output)",
    sql: `
      ALTER TABLE ps_sessions ADD COLUMN job_id INTEGER;
    `,
  },
  {
    id: 208,
    name: 'the latest Write-Progress of a child or a job, found without reading its other output',
    sql: `
      CREATE INDEX job_output_progress ON job_output (job_id, child_id, id) WHERE stream = 'progress';
      CREATE INDEX job_output_child_progress ON job_output (child_id, id) WHERE stream = 'progress';
    `,
  },
  {
    id: 209,
    name: 'a removed session is kept, Closed and unlisted, for the variables that still hold it',
    sql: `
      ALTER TABLE ps_sessions ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
    `,
  },
];
