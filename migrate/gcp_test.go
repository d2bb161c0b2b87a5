package migrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/env2vault/env2vault/migrate/internal/gsmfake"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

const gcpTestProject = "acme-prod"

var gcpTestMeta = Metadata{
	Name:        "billing-api/stripe-key",
	Service:     "Billing API",
	Environment: "Production",
	Owner:       "@acme/Payments Team",
	PlanID:      "sha256:0f3c9a",
	Sources:     []string{"billing-api/.env.production:3", "billing-api/config.go:12"},
}

// startGCP runs a fake Secret Manager and opens a backend on it through
// Open, with short retry pauses.
func startGCP(t *testing.T, fo gsmfake.Options) (*gsmfake.Server, *gcpBackend) {
	t.Helper()
	srv, err := gsmfake.Start(fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	b, err := Open(t.Context(), plan.Backend{Kind: plan.BackendGCP, Project: gcpTestProject}, Options{Endpoint: srv.Addr()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	g := b.(*gcpBackend)
	t.Cleanup(func() { g.Close() })
	g.backoff = gax.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, Multiplier: 2}
	return srv, g
}

func gcpTarget(id string) (plan.Target, string) {
	return plan.Target{Project: gcpTestProject, SecretID: id}, "projects/" + gcpTestProject + "/secrets/" + id
}

// TestGCPLifecycle writes, reads back, rewrites the same value and
// changes it, counting versions on the server.
func TestGCPLifecycle(t *testing.T) {
	srv, g := startGCP(t, gsmfake.Options{})
	ctx := t.Context()
	if err := g.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if g.Kind() != plan.BackendGCP {
		t.Errorf("Kind = %q", g.Kind())
	}
	tgt, name := gcpTarget("billing-api-stripe-key")
	first, second := cloudCanary(t), cloudCanary(t)
	steps := []struct {
		name         string
		value        secret.Value
		wantVersions int
		wantAdds     int // AddSecretVersion calls so far
		wantVersion  string
	}{
		{"create", first, 1, 1, name + "/versions/1"},
		{"rerun with the same value adds no version", first, 1, 1, name + "/versions/1"},
		{"rerun again", first, 1, 1, name + "/versions/1"},
		{"changed value adds exactly one version", second, 2, 2, name + "/versions/2"},
		{"changed value rerun", second, 2, 2, name + "/versions/2"},
	}
	for _, st := range steps {
		prev, err := g.Get(ctx, tgt)
		if err != nil {
			t.Fatalf("%s: Get: %v", st.name, err)
		}
		ver, err := g.Put(ctx, tgt, st.value, gcpTestMeta, prev)
		if err != nil {
			t.Fatalf("%s: Put: %v", st.name, err)
		}
		if ver != st.wantVersion {
			t.Errorf("%s: version = %q, want %q", st.name, ver, st.wantVersion)
		}
		got, err := g.Get(ctx, tgt)
		if err != nil {
			t.Fatalf("%s: read back: %v", st.name, err)
		}
		if !got.Exists || !got.Value.Equal(st.value) || got.Version != ver {
			t.Errorf("%s: read back exists=%v equal=%v version=%q", st.name, got.Exists, got.Value.Equal(st.value), got.Version)
		}
		if n := srv.Versions(name); n != st.wantVersions {
			t.Errorf("%s: %d versions, want %d", st.name, n, st.wantVersions)
		}
		if n := srv.Calls("AddSecretVersion"); n != st.wantAdds {
			t.Errorf("%s: %d AddSecretVersion calls, want %d", st.name, n, st.wantAdds)
		}
	}
	if n := srv.Calls("CreateSecret"); n != 1 {
		t.Errorf("CreateSecret called %d times, want 1", n)
	}
	sec, ok := srv.Secret(name)
	if !ok {
		t.Fatal("secret missing on the server")
	}
	if sec.GetReplication().GetAutomatic() == nil {
		t.Error("replication is not automatic")
	}
	want := map[string]string{
		"managed-by":  "env2vault",
		"service":     "billing-api",
		"environment": "production",
		"owner":       "acme-payments-team",
		"plan-id":     "sha256-0f3c9a",
	}
	if !maps.Equal(sec.GetLabels(), want) {
		t.Errorf("labels = %v, want %v", sec.GetLabels(), want)
	}
	if got := sec.GetAnnotations()["env2vault-sources"]; got != "billing-api/.env.production:3, billing-api/config.go:12" {
		t.Errorf("sources annotation = %q", got)
	}
	if got := sec.GetAnnotations()["env2vault-owner"]; got != gcpTestMeta.Owner {
		t.Errorf("owner annotation = %q", got)
	}
	for k, v := range sec.GetLabels() {
		cloudNoLeak(t, "label "+k, v, first, second)
	}
	for k, v := range sec.GetAnnotations() {
		cloudNoLeak(t, "annotation "+k, v, first, second)
	}
}

// TestGCPGetMissing covers a missing secret and a secret without versions.
func TestGCPGetMissing(t *testing.T) {
	srv, g := startGCP(t, gsmfake.Options{})
	ctx := t.Context()
	tgt, name := gcpTarget("empty")
	for _, tc := range []struct {
		name  string
		setup func()
	}{
		{"no secret", func() {}},
		{"secret without versions", func() {
			if _, err := g.ensureSecret(ctx, name, Metadata{}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			cur, err := g.Get(ctx, tgt)
			if err != nil || cur.Exists {
				t.Fatalf("Get = %+v, %v; want not exists", cur, err)
			}
			v := cloudCanary(t)
			if _, err := g.Put(ctx, tgt, v, Metadata{}, cur); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if n := srv.Versions(name); n != 1 {
				t.Errorf("%d versions, want 1", n)
			}
			// Reset for the next case: a fresh secret id is simpler.
			tgt, name = gcpTarget("empty-" + strings.ReplaceAll(tc.name, " ", "-"))
		})
	}
}

// TestGCPConcurrentSameValue: another writer stored exactly our value
// since Get; nothing would be overwritten, so Put succeeds without a write.
func TestGCPConcurrentSameValue(t *testing.T) {
	srv, g := startGCP(t, gsmfake.Options{})
	ctx := t.Context()
	tgt, name := gcpTarget("raced")
	prev, err := g.Get(ctx, tgt)
	if err != nil {
		t.Fatal(err)
	}
	v := cloudCanary(t)
	if _, err := g.Put(ctx, tgt, v, Metadata{}, prev); err != nil { // the other writer
		t.Fatal(err)
	}
	ver, err := g.Put(ctx, tgt, v, Metadata{}, prev)
	if err != nil {
		t.Fatalf("Put with a stale prev but the same value: %v", err)
	}
	if ver != name+"/versions/1" || srv.Versions(name) != 1 {
		t.Errorf("version %q, %d versions; want version 1 only", ver, srv.Versions(name))
	}
}

// TestGCPConflict changes the secret between Get and Put.
func TestGCPConflict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing bool // the secret has a version before Get
		other    func(t *testing.T, srv *gsmfake.Server, g *gcpBackend, name string)
	}{
		{
			name:     "another writer added a version",
			existing: true,
			other: func(t *testing.T, srv *gsmfake.Server, _ *gcpBackend, name string) {
				if _, err := srv.AddVersion(name, []byte("someone else")); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "another writer created the secret",
			other: func(t *testing.T, srv *gsmfake.Server, g *gcpBackend, name string) {
				if _, err := g.ensureSecret(t.Context(), name, Metadata{}); err != nil {
					t.Fatal(err)
				}
				if _, err := srv.AddVersion(name, []byte("someone else")); err != nil {
					t.Fatal(err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, g := startGCP(t, gsmfake.Options{})
			ctx := t.Context()
			tgt, name := gcpTarget("conflicted")
			if tc.existing {
				if _, err := g.Put(ctx, tgt, cloudCanary(t), Metadata{}, Current{}); err != nil {
					t.Fatal(err)
				}
			}
			prev, err := g.Get(ctx, tgt)
			if err != nil {
				t.Fatal(err)
			}
			tc.other(t, srv, g, name)
			before := srv.Versions(name)
			v := cloudCanary(t)
			_, err = g.Put(ctx, tgt, v, Metadata{}, prev)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Put = %v, want ErrConflict", err)
			}
			cloudNoLeak(t, "the conflict error", err.Error(), v)
			if n := srv.Versions(name); n != before {
				t.Errorf("versions went from %d to %d on a conflict", before, n)
			}
		})
	}
}

// TestGCPRetries injects transient failures; every write still lands
// exactly once.
func TestGCPRetries(t *testing.T) {
	for _, tc := range []struct {
		method string
		code   codes.Code
		n      int
		after  bool // fail after the call took effect (response lost)
	}{
		{"AccessSecretVersion", codes.Unavailable, 3, false},
		{"AccessSecretVersion", codes.ResourceExhausted, 2, false},
		{"CreateSecret", codes.Unavailable, 2, false},
		{"CreateSecret", codes.Unavailable, 1, true},
		{"AddSecretVersion", codes.Unavailable, 2, false},
		{"AddSecretVersion", codes.ResourceExhausted, 3, false},
		{"AddSecretVersion", codes.Unavailable, 1, true},
		{"ListSecrets", codes.Unavailable, 2, false},
	} {
		t.Run(fmt.Sprintf("%s/%s*%d/after=%v", tc.method, tc.code, tc.n, tc.after), func(t *testing.T) {
			srv, g := startGCP(t, gsmfake.Options{})
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			if tc.after {
				srv.FailAfter(tc.method, tc.code, tc.n)
			} else {
				srv.FailNext(tc.method, tc.code, tc.n)
			}
			if err := g.Check(ctx); err != nil {
				t.Fatalf("Check: %v", err)
			}
			tgt, name := gcpTarget("flaky")
			v := cloudCanary(t)
			prev, err := g.Get(ctx, tgt)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			ver, err := g.Put(ctx, tgt, v, gcpTestMeta, prev)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if ver != name+"/versions/1" {
				t.Errorf("version = %q", ver)
			}
			if n := srv.Versions(name); n != 1 {
				t.Errorf("%d versions, want exactly 1", n)
			}
			// A call that took effect is not repeated: the backend reads
			// the value back instead, or the repeat is harmless.
			if n := srv.Calls(tc.method); !tc.after && n <= tc.n {
				t.Errorf("%s called %d times; the faults were not retried", tc.method, n)
			}
		})
	}
}

// TestGCPPersistentFailure gives up with a clear error, not a hang.
func TestGCPPersistentFailure(t *testing.T) {
	srv, g := startGCP(t, gsmfake.Options{})
	srv.FailNext("AddSecretVersion", codes.Unavailable, 100)
	tgt, _ := gcpTarget("down")
	v := cloudCanary(t)
	_, err := g.Put(t.Context(), tgt, v, Metadata{}, Current{})
	if err == nil {
		t.Fatal("Put succeeded against a failing server")
	}
	if n := srv.Calls("AddSecretVersion"); n != gcpAddAttempts {
		t.Errorf("AddSecretVersion tried %d times, want %d", n, gcpAddAttempts)
	}
	if !strings.Contains(err.Error(), "could not reach Google Secret Manager") {
		t.Errorf("error = %v", err)
	}
	cloudNoLeak(t, "the error", err.Error(), v)
}

// TestGCPErrors checks the messages users get for setup problems.
func TestGCPErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T) error
		want []string
	}{
		{
			name: "unreachable endpoint",
			run: func(t *testing.T) error {
				b, err := Open(t.Context(), plan.Backend{Kind: plan.BackendGCP, Project: gcpTestProject}, Options{Endpoint: cloudClosedAddr(t)})
				if err != nil {
					return err
				}
				defer b.(*gcpBackend).Close()
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				return b.Check(ctx)
			},
			want: []string{"could not reach Google Secret Manager at 127.0.0.1:"},
		},
		{
			name: "credentials refused",
			run: func(t *testing.T) error {
				_, g := startGCP(t, gsmfake.Options{RequireAuth: true})
				return g.Check(t.Context())
			},
			want: []string{"refused the credentials", "gcloud auth application-default login"},
		},
		{
			name: "credentials file missing",
			run: func(t *testing.T) error {
				dir := t.TempDir()
				t.Setenv("HOME", dir)
				t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(dir, "missing.json"))
				_, err := Open(t.Context(), plan.Backend{Kind: plan.BackendGCP, Project: gcpTestProject}, Options{})
				return err
			},
			want: []string{"connecting to Google Secret Manager", "GOOGLE_APPLICATION_CREDENTIALS"},
		},
		{
			name: "no project",
			run: func(t *testing.T) error {
				t.Setenv("GOOGLE_CLOUD_PROJECT", "")
				srv, err := gsmfake.Start(gsmfake.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				b, err := Open(t.Context(), plan.Backend{Kind: plan.BackendGCP}, Options{Endpoint: srv.Addr()})
				if err != nil {
					return err
				}
				return b.Check(t.Context())
			},
			want: []string{"needs a project"},
		},
		{
			name: "bad secret id",
			run: func(t *testing.T) error {
				_, g := startGCP(t, gsmfake.Options{})
				_, err := g.Get(t.Context(), plan.Target{SecretID: "has/slash"})
				return err
			},
			want: []string{"not a valid Secret Manager secret id"},
		},
		{
			name: "bad project",
			run: func(t *testing.T) error {
				_, g := startGCP(t, gsmfake.Options{})
				_, err := g.Get(t.Context(), plan.Target{Project: "Acme Prod", SecretID: "x"})
				return err
			},
			want: []string{"not a Google Cloud project id"},
		},
		{
			name: "latest version disabled",
			run: func(t *testing.T) error {
				srv, g := startGCP(t, gsmfake.Options{})
				tgt, name := gcpTarget("disabled")
				ver, err := g.Put(t.Context(), tgt, cloudCanary(t), Metadata{}, Current{})
				if err != nil {
					t.Fatal(err)
				}
				if err := srv.Disable(ver); err != nil {
					t.Fatal(err)
				}
				_, err = g.Get(t.Context(), tgt)
				_ = name
				return err
			},
			want: []string{"disabled or destroyed"},
		},
		{
			name: "empty value",
			run: func(t *testing.T) error {
				_, g := startGCP(t, gsmfake.Options{})
				tgt, _ := gcpTarget("empty-value")
				_, err := g.Put(t.Context(), tgt, secret.Value{}, Metadata{}, Current{})
				return err
			},
			want: []string{"refusing to store an empty value"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("message: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestGCPLabelValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"billing-api", "billing-api"},
		{"Billing API", "billing-api"},
		{"alice@example.com", "alice-example-com"},
		{"@acme/ml_team", "acme-ml_team"},
		{"  --weird!!name--  ", "weird-name"},
		{"sha256:" + strings.Repeat("ab", 40), "sha256-" + strings.Repeat("ab", 28)},
		{"Zürich", "z-rich"},
		{"", ""},
		{"!!!", ""},
	} {
		got := gcpLabelValue(tc.in)
		if got != tc.want {
			t.Errorf("gcpLabelValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > 63 {
			t.Errorf("gcpLabelValue(%q) is %d bytes", tc.in, len(got))
		}
	}
}

// TestGCPCanary drives every path that produces errors or logs with a
// canary value and the client library's debug logging turned on.
func TestGCPCanary(t *testing.T) {
	t.Setenv("GOOGLE_SDK_GO_LOGGING_LEVEL", "debug")
	logs := cloudLogs(t)
	srv, g := startGCP(t, gsmfake.Options{})
	ctx := t.Context()
	tgt, name := gcpTarget("canary")
	v1, v2 := cloudCanary(t), cloudCanary(t)
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
			errs = append(errs, fmt.Sprintf("%+v %#v", err, err))
		}
	}
	srv.FailNext("AddSecretVersion", codes.Unavailable, 2)
	_, err := g.Put(ctx, tgt, v1, gcpTestMeta, Current{})
	note(err)
	prev, err := g.Get(ctx, tgt)
	note(err)
	if _, err := srv.AddVersion(name, []byte(v2.Reveal())); err != nil {
		t.Fatal(err)
	}
	_, err = g.Put(ctx, tgt, v1, gcpTestMeta, prev) // conflict
	note(err)
	srv.FailNext("AddSecretVersion", codes.InvalidArgument, 1)
	prev, _ = g.Get(ctx, tgt)
	_, err = g.Put(ctx, tgt, v1, gcpTestMeta, prev) // rejected
	note(err)
	srv.FailNext("AddSecretVersion", codes.Unavailable, 100)
	prev, _ = g.Get(ctx, tgt)
	_, err = g.Put(ctx, tgt, v1, gcpTestMeta, prev) // gives up
	note(err)
	if len(errs) != 6 {
		t.Fatalf("expected three failures, got %d error texts", len(errs))
	}
	cloudNoLeak(t, "errors", strings.Join(errs, "\n"), v1, v2)
	cloudNoLeak(t, "logs", logs.String(), v1, v2)
	if !strings.Contains(logs.String(), "retrying a Secret Manager write") {
		t.Error("the retry was not logged; the log canary check saw nothing")
	}
}

// TestGCPFakeRejectsBadLabels shows the stand-in enforces Secret
// Manager's label rules, so the label tests above mean something.
func TestGCPFakeRejectsBadLabels(t *testing.T) {
	_, g := startGCP(t, gsmfake.Options{})
	for _, labels := range []map[string]string{
		{"owner": "Payments Team"},
		{"Owner": "payments"},
		{"owner": strings.Repeat("a", 64)},
		{"1owner": "a"},
	} {
		_, err := g.client.CreateSecret(t.Context(), &secretmanagerpb.CreateSecretRequest{
			Parent:   "projects/" + gcpTestProject,
			SecretId: "labelled",
			Secret: &secretmanagerpb.Secret{
				Replication: &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}},
				Labels:      labels,
			},
		})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("labels %v: %v, want InvalidArgument", labels, err)
		}
	}
}
