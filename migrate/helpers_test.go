package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

func testFingerprinter(t testing.TB) *secret.Fingerprinter {
	t.Helper()
	fp, err := secret.NewFingerprinter([]byte("migrate-test-fingerprint-key"))
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// canary returns a unique value that must never show up outside the
// backend.
func canary(name string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return "canary-" + name + "-" + hex.EncodeToString(b)
}

// sources stands in for the files a plan's values are read from.
type sources struct {
	mu   sync.Mutex
	vals map[string]string // by source key
	errs map[string]error
}

func (s *sources) set(key, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals[key] = v
}

func (s *sources) resolve(ctx context.Context, loc discover.Location) (secret.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.errs[loc.Key]; err != nil {
		return secret.Value{}, err
	}
	v, ok := s.vals[loc.Key]
	if !ok {
		return secret.Value{}, fmt.Errorf("%s:%d (%s): %w", loc.Path, loc.Line, loc.Key, discover.ErrNotFound)
	}
	return secret.New(v), nil
}

// testPlan returns a plan of n secrets for a Vault mount, each with a
// canary value in its own .env source.
func testPlan(t testing.TB, mount string, kv, n int) (*plan.Plan, *sources) {
	t.Helper()
	fp := testFingerprinter(t)
	src := &sources{vals: map[string]string{}, errs: map[string]error{}}
	p := &plan.Plan{
		SchemaVersion: plan.SchemaVersion,
		ID:            "plan-" + strconv.Itoa(n),
		Backend:       plan.Backend{Kind: plan.BackendVault, Mount: mount, KVVersion: kv},
		DiffStatus:    plan.DiffNotRun,
	}
	for i := range n {
		name := fmt.Sprintf("app-key%03d-prod", i)
		key := fmt.Sprintf("KEY_%03d", i)
		v := canary(name)
		src.vals[key] = v
		p.Secrets = append(p.Secrets, plan.Secret{
			Name: name, Service: "app", Purpose: "key", Environment: "prod", EnvVar: key,
			Owner: "team-a", Fingerprint: fp.Fingerprint(secret.New(v)),
			Sources: []plan.Source{{Root: "/src", Repo: "app", Path: ".env.production", Line: i + 1, Key: key, Kind: plan.SourceEnvFile}},
			Target:  plan.Target{Mount: mount, Path: "app/" + name, Field: "value"},
			Action:  plan.ActionCreate,
		})
	}
	return p, src
}

func (s *sources) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range s.vals {
		out = append(out, v)
	}
	return out
}

// noCanary fails if any value appears in text.
func noCanary(t testing.TB, what, text string, values []string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(text, v) {
			t.Errorf("%s contains a secret value", what)
			return
		}
	}
}

// checkNoValues looks for the values in the summary, its errors and the
// journal.
func checkNoValues(t testing.TB, sum *Summary, err error, journalPath string, values []string) {
	t.Helper()
	if sum != nil {
		b, _ := json.Marshal(sum)
		noCanary(t, "the summary", string(b)+fmt.Sprintf("%+v %#v", sum, sum), values)
	}
	if err != nil {
		noCanary(t, "the error", err.Error()+fmt.Sprintf("%+v", err), values)
	}
	if journalPath != "" {
		b, rerr := os.ReadFile(journalPath)
		if rerr == nil {
			noCanary(t, "the journal", string(b), values)
		}
	}
}

// noSleep records waits instead of waiting.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noSleep) sleep(ctx context.Context, d time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.waits = append(n.waits, d)
	return ctx.Err()
}

// memBackend is an in-memory Backend with KV v2-like versions and
// check-and-set, for tests of the runner's decisions.
type memBackend struct {
	mu   sync.Mutex
	data map[string]memSecret // by mount/path
	puts int
}

type memSecret struct {
	version int
	fields  map[string]string
}

func newMem() *memBackend { return &memBackend{data: map[string]memSecret{}} }

func (m *memBackend) Kind() string                    { return plan.BackendVault }
func (m *memBackend) Check(ctx context.Context) error { return nil }

func (m *memBackend) Get(ctx context.Context, t plan.Target) (Current, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.data[t.Mount+"/"+t.Path]
	if !ok {
		return Current{}, nil
	}
	c := Current{Version: strconv.Itoa(s.version)}
	if v, ok := s.fields[t.Field]; ok {
		c.Exists, c.Value = true, secret.New(v)
	}
	return c, nil
}

func (m *memBackend) Put(ctx context.Context, t plan.Target, v secret.Value, md Metadata, prev Current) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := t.Mount + "/" + t.Path
	s := m.data[k]
	cur := ""
	if s.version > 0 {
		cur = strconv.Itoa(s.version)
	}
	if cur != prev.Version {
		return "", ErrConflict
	}
	f := map[string]string{}
	for k, x := range s.fields {
		f[k] = x
	}
	f[t.Field] = v.Reveal()
	m.data[k] = memSecret{version: s.version + 1, fields: f}
	m.puts++
	return strconv.Itoa(s.version + 1), nil
}

func (m *memBackend) set(t plan.Target, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := t.Mount + "/" + t.Path
	s := m.data[k]
	f := map[string]string{}
	for k, x := range s.fields {
		f[k] = x
	}
	f[t.Field] = v
	m.data[k] = memSecret{version: s.version + 1, fields: f}
}

func (m *memBackend) version(t plan.Target) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[t.Mount+"/"+t.Path].version
}

// faultBackend wraps a Backend to inject failures.
type faultBackend struct {
	Backend
	puts atomic.Int64
	// failAfter > 0: puts after the first failAfter fail with a plain
	// error (a crash); when applied is set they reach the backend first
	// (the answer was lost).
	failAfter int64
	applied   bool
	// beforePut runs before each Put (e.g. to change the target).
	beforePut func(t plan.Target)
	// transient: the first n Gets fail transiently with this wait.
	transientGets atomic.Int64
	retryAfter    time.Duration
}

var errInjected = errors.New("injected failure: connection lost")

func (f *faultBackend) Get(ctx context.Context, t plan.Target) (Current, error) {
	if f.transientGets.Add(-1) >= 0 {
		return Current{}, &TransientError{Err: errors.New("throttled (429)"), After: f.retryAfter}
	}
	return f.Backend.Get(ctx, t)
}

func (f *faultBackend) Put(ctx context.Context, t plan.Target, v secret.Value, m Metadata, prev Current) (string, error) {
	if f.beforePut != nil {
		f.beforePut(t)
	}
	n := f.puts.Add(1)
	if f.failAfter > 0 && n > f.failAfter {
		if f.applied {
			if _, err := f.Backend.Put(ctx, t, v, m, prev); err != nil {
				return "", err
			}
		}
		return "", errInjected
	}
	return f.Backend.Put(ctx, t, v, m, prev)
}
