package migrate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/env2vault/env2vault/migrate/internal/asmfake"
	"github.com/env2vault/env2vault/migrate/internal/gsmfake"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// cloudCanary returns a fresh value that must never show up outside the
// backend: in errors, logs, labels or tags.
func cloudCanary(t *testing.T) secret.Value {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return secret.New("e2v-canary-" + hex.EncodeToString(b))
}

// cloudLogs sends slog's default logger, at debug level, to a buffer for
// the rest of the test.
func cloudLogs(t *testing.T) *cloudBuffer {
	t.Helper()
	buf := &cloudBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

// cloudBuffer is a bytes.Buffer safe for concurrent writers.
type cloudBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *cloudBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.Write(p)
}

func (c *cloudBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

// cloudNoLeak fails the test when any canary appears in any text.
func cloudNoLeak(t *testing.T, where string, text string, canaries ...secret.Value) {
	t.Helper()
	for _, c := range canaries {
		if c.IsZero() {
			continue
		}
		if strings.Contains(text, c.Reveal()) {
			t.Errorf("a secret value leaked into %s", where)
		}
	}
}

// cloudClosedAddr returns a loopback address nothing listens on.
func cloudClosedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestCloudHelpers(t *testing.T) {
	for _, tc := range []struct {
		ep       string
		host     string
		loopback bool
	}{
		{"127.0.0.1:8443", "127.0.0.1:8443", true},
		{"http://localhost:4566", "localhost:4566", true},
		{"[::1]:9000", "[::1]:9000", true},
		{"https://secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com", false},
		{"10.0.0.5:443", "10.0.0.5:443", false},
		{"private.googleapis.com:443", "private.googleapis.com:443", false},
	} {
		t.Run(tc.ep, func(t *testing.T) {
			if got := cloudEndpointHost(tc.ep); got != tc.host {
				t.Errorf("host = %q, want %q", got, tc.host)
			}
			if got := cloudIsLoopback(tc.ep); got != tc.loopback {
				t.Errorf("loopback = %v, want %v", got, tc.loopback)
			}
		})
	}
	for _, tc := range []struct {
		items []string
		max   int
		want  string
	}{
		{[]string{"a/b:1", "c/d:2"}, 100, "a/b:1, c/d:2"},
		{[]string{"a/b:1", "c/d:2", "e/f:3"}, 26, "a/b:1, c/d:2, (and 1 more)"},
		{[]string{"a/b:1", "c/d:2", "e/f:3"}, 25, "a/b:1, (and 2 more)"},
		{[]string{strings.Repeat("x", 50)}, 20, "(1 sources)"},
	} {
		if got := cloudJoinLimited(tc.items, ", ", tc.max); got != tc.want {
			t.Errorf("cloudJoinLimited(%v, %d) = %q, want %q", tc.items, tc.max, got, tc.want)
		}
	}
	if got := cloudTruncate("héllo", 2); got != "h" {
		t.Errorf("cloudTruncate split a rune: %q", got)
	}
}

// TestCloudConcurrentPuts writes many targets at once through one
// backend of each kind (run with -race).
func TestCloudConcurrentPuts(t *testing.T) {
	type kind struct {
		name    string
		backend Backend
		target  func(i int) plan.Target
	}
	_, g := startGCP(t, gsmfake.Options{})
	_, a := startAWS(t, asmfake.Options{})
	for _, k := range []kind{
		{"gcp", g, func(i int) plan.Target { return plan.Target{Project: gcpTestProject, SecretID: fmt.Sprintf("s%d", i)} }},
		{"aws", a, func(i int) plan.Target {
			return plan.Target{Name: fmt.Sprintf("prod/s%d", i), Region: []string{"", "us-east-1"}[i%2]}
		}},
	} {
		t.Run(k.name, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 16 {
				wg.Go(func() {
					v := secret.New(fmt.Sprintf("value-%d", i))
					prev, err := k.backend.Get(t.Context(), k.target(i))
					if err == nil {
						_, err = k.backend.Put(t.Context(), k.target(i), v, Metadata{PlanID: "p"}, prev)
					}
					if err == nil {
						var got Current
						got, err = k.backend.Get(t.Context(), k.target(i))
						if err == nil && !got.Value.Equal(v) {
							err = fmt.Errorf("target %d read back another value", i)
						}
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}
