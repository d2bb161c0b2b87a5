package migrate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Journal states. A secret's entries go writing -> written -> verified,
// or end in no-op, conflict or failed.
const (
	StateRunStarted  = "run-started"
	StateRunFinished = "run-finished"
	StateWriting     = "writing"
	StateWritten     = "written"
	StateVerified    = "verified"
	StateNoop        = "no-op"
	StateConflict    = "conflict"
	StateFailed      = "failed"
)

// JournalEntry is one line of a migration journal (JSON lines). It names
// secrets, fingerprints, targets and versions; it never holds a value.
type JournalEntry struct {
	Time   time.Time `json:"time"`
	Run    string    `json:"run"`
	PlanID string    `json:"plan_id"`
	State  string    `json:"state"`
	// Secret-level fields (empty on run-started / run-finished lines).
	Secret      string `json:"secret,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Target      string `json:"target,omitempty"`
	Action      string `json:"action,omitempty"`
	Version     string `json:"version,omitempty"`
	Error       string `json:"error,omitempty"`
	// Counts, on run-finished lines.
	Counts map[string]int `json:"counts,omitempty"`
}

// JournalPath returns the journal file kept beside a plan file.
func JournalPath(planPath string) string { return planPath + ".journal" }

// journal appends entries to a file (mode 0600) and remembers what
// earlier runs of the same plan did.
type journal struct {
	mu     sync.Mutex
	f      *os.File
	run    string
	planID string
	// pending holds the writing entry of each secret (by name and
	// fingerprint) that earlier runs of this plan started to write and
	// never saw verified: the write may or may not have landed.
	pending map[string]JournalEntry
}

func journalKey(name, fp string) string { return name + "\x00" + fp }

// openJournal reads the journal at path (if any) and opens it for
// appending. A nil journal (path "") records nothing.
func openJournal(path, planID string) (*journal, error) {
	j := &journal{run: time.Now().UTC().Format("20060102T150405.000000000Z"), planID: planID, pending: map[string]JournalEntry{}}
	if path == "" {
		return j, nil
	}
	past, err := ReadJournal(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range past {
		if e.PlanID != planID || e.Secret == "" {
			continue
		}
		k := journalKey(e.Secret, e.Fingerprint)
		switch e.State {
		case StateWriting:
			j.pending[k] = e
		case StateVerified, StateNoop:
			delete(j.pending, k)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the migration journal: %w", err)
	}
	// An existing journal may have been created with a looser mode.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("restricting the migration journal to its owner: %w", err)
	}
	j.f = f
	return j, nil
}

// ReadJournal returns the entries of the journal at path, oldest first.
// A torn last line (a crash mid-write) is ignored.
func ReadJournal(path string) ([]JournalEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the migration journal: %w", err)
	}
	defer f.Close()
	var out []JournalEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	var bad error
	for sc.Scan() {
		line++
		if bad != nil {
			return nil, bad // a bad line that was not the last one
		}
		var e JournalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			bad = fmt.Errorf("the migration journal %s is damaged at line %d; move it aside to start afresh", path, line)
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the migration journal: %w", err)
	}
	return out, nil
}

// unconfirmed returns the writing entry of an earlier run's write of
// this secret that was never verified.
func (j *journal) unconfirmed(name, fp string) (JournalEntry, bool) {
	e, ok := j.pending[journalKey(name, fp)]
	return e, ok
}

// add appends e, stamped with the time, run and plan. Journal write
// errors are returned: a migration must not go on unrecorded.
func (j *journal) add(e JournalEntry) error {
	if j.f == nil {
		return nil
	}
	e.Time = time.Now().UTC()
	e.Run, e.PlanID = j.run, j.planID
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("writing the migration journal: %w", err)
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("writing the migration journal: %w", err)
	}
	return nil
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		j.f.Close()
		return fmt.Errorf("writing the migration journal: %w", err)
	}
	return j.f.Close()
}
