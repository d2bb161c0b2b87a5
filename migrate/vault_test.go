package migrate

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/mitchellh/go-homedir"

	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// The Vault token helper finds ~/.vault-token through go-homedir, which
// caches HOME; tests change HOME.
func init() { homedir.DisableCache = true }

// vaultEnv points the process at the shared dev server with fresh
// mounts, and keeps the developer's own token file out of the way.
func vaultEnv(t *testing.T) *vaulttest.Env {
	t.Helper()
	e := vaulttest.Server(t)
	e.Setenv(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("VAULT_NAMESPACE", "")
	t.Setenv("VAULT_MAX_RETRIES", "")
	return e
}

func openTest(t *testing.T, p *plan.Plan, opts Options) Backend {
	t.Helper()
	b, err := Open(context.Background(), p.Backend, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mountFor(e *vaulttest.Env, kv int) string {
	if kv == 1 {
		return e.KV1
	}
	return e.KV2
}

// stored reads a field and the current version straight from Vault.
func stored(t *testing.T, e *vaulttest.Env, kv int, tg plan.Target) (string, int, map[string]string) {
	t.Helper()
	ctx := context.Background()
	if kv == 1 {
		s, err := e.Client.KVv1(tg.Mount).Get(ctx, tg.Path)
		if err != nil {
			t.Fatalf("reading %s: %v", tg.Path, err)
		}
		v, _ := s.Data[tg.Field].(string)
		return v, 0, nil
	}
	s, err := e.Client.KVv2(tg.Mount).Get(ctx, tg.Path)
	if err != nil {
		t.Fatalf("reading %s: %v", tg.Path, err)
	}
	m, err := e.Client.KVv2(tg.Mount).GetMetadata(ctx, tg.Path)
	if err != nil {
		t.Fatal(err)
	}
	cm := map[string]string{}
	for k, v := range m.CustomMetadata {
		cm[k] = fmt.Sprint(v)
	}
	v, _ := s.Data[tg.Field].(string)
	return v, m.CurrentVersion, cm
}

func TestVaultMigrateAndRerun(t *testing.T) {
	for _, kv := range []int{2, 1} {
		t.Run(fmt.Sprintf("kv%d", kv), func(t *testing.T) {
			e := vaultEnv(t)
			p, src := testPlan(t, mountFor(e, kv), kv, 25)
			journal := filepath.Join(t.TempDir(), "plan.yaml.journal")
			opts, _ := runOpts(t, src, journal)
			b := openTest(t, p, Options{})
			sum, err := Run(context.Background(), b, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Counts[plan.ActionCreate] != 25 || !sum.OK() {
				t.Fatalf("counts %v: %+v", sum.Counts, sum.Results[0])
			}
			for i, r := range sum.Results {
				s := p.Secrets[i]
				got, ver, md := stored(t, e, kv, s.Target)
				if got != src.vals[s.EnvVar] {
					t.Errorf("%s: Vault holds another value", s.Name)
				}
				if !r.Verified {
					t.Errorf("%s: not verified", s.Name)
				}
				if kv == 2 {
					if ver != 1 || r.Version != "1" {
						t.Errorf("%s: version %d (result %q), want 1", s.Name, ver, r.Version)
					}
					want := map[string]string{"managed_by": "env2vault", "name": s.Name, "service": "app", "environment": "prod", "owner": "team-a", "plan_id": p.ID, "sources": fmt.Sprintf("app/.env.production:%d", i+1)}
					for k, v := range want {
						if md[k] != v {
							t.Errorf("%s: custom_metadata[%s] = %q, want %q", s.Name, k, md[k], v)
						}
					}
					noCanary(t, "custom_metadata", fmt.Sprint(md), src.all())
				}
			}
			sum2, err := Run(context.Background(), b, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum2.Counts[plan.ActionNoop] != 25 {
				t.Fatalf("rerun counts %v", sum2.Counts)
			}
			if kv == 2 {
				for _, s := range p.Secrets {
					if _, ver, _ := stored(t, e, kv, s.Target); ver != 1 {
						t.Errorf("%s: version %d after the rerun, want 1", s.Name, ver)
					}
				}
			}
			checkNoValues(t, sum, err, journal, src.all())
			checkNoValues(t, sum2, nil, journal, src.all())
		})
	}
}

func TestVaultConflictBetweenReadAndWrite(t *testing.T) {
	for _, kv := range []int{2, 1} {
		t.Run(fmt.Sprintf("kv%d", kv), func(t *testing.T) {
			e := vaultEnv(t)
			p, src := testPlan(t, mountFor(e, kv), kv, 2)
			theirs := canary("theirs")
			fb := &faultBackend{Backend: openTest(t, p, Options{})}
			fb.beforePut = func(tg plan.Target) {
				if tg.Path != p.Secrets[0].Target.Path {
					return
				}
				var err error
				if kv == 2 {
					_, err = e.Client.KVv2(tg.Mount).Put(context.Background(), tg.Path, map[string]any{"value": theirs})
				} else {
					err = e.Client.KVv1(tg.Mount).Put(context.Background(), tg.Path, map[string]any{"value": theirs})
				}
				if err != nil {
					t.Error(err)
				}
			}
			journal := filepath.Join(t.TempDir(), "j")
			opts, _ := runOpts(t, src, journal)
			sum, err := Run(context.Background(), fb, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := sum.Results[0]
			if r.Action != plan.ActionConflict || !strings.Contains(r.Error, "changed since it was read") {
				t.Fatalf("got %+v, want a conflict", r)
			}
			if got, ver, _ := stored(t, e, kv, p.Secrets[0].Target); got != theirs || (kv == 2 && ver != 1) {
				t.Errorf("their value was overwritten (version %d)", ver)
			}
			if sum.Results[1].Action != plan.ActionCreate {
				t.Errorf("the other secret: %+v", sum.Results[1])
			}
			checkNoValues(t, sum, err, journal, append(src.all(), theirs))
		})
	}
}

func TestVaultResumeAfterFailure(t *testing.T) {
	for _, kv := range []int{2, 1} {
		t.Run(fmt.Sprintf("kv%d", kv), func(t *testing.T) {
			e := vaultEnv(t)
			p, src := testPlan(t, mountFor(e, kv), kv, 12)
			b := openTest(t, p, Options{})
			journal := filepath.Join(t.TempDir(), "plan.yaml.journal")
			opts, _ := runOpts(t, src, journal)
			// Half-way the connection "drops": writes land, answers are lost.
			fb := &faultBackend{Backend: b, failAfter: 6, applied: true}
			sum, err := Run(context.Background(), fb, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Counts[ActionFailed] != 6 {
				t.Fatalf("first run: %v", sum.Counts)
			}
			sum2, err := Run(context.Background(), b, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !sum2.OK() || sum2.Counts[plan.ActionNoop] != 12 {
				t.Fatalf("rerun: %v", sum2.Counts)
			}
			resumed := 0
			for _, r := range sum2.Results {
				if r.Resumed {
					resumed++
				}
			}
			if resumed != 6 {
				t.Errorf("%d resumed, want 6", resumed)
			}
			for _, s := range p.Secrets {
				got, ver, _ := stored(t, e, kv, s.Target)
				if got != src.vals[s.EnvVar] || kv == 2 && ver != 1 {
					t.Errorf("%s: version %d, want exactly one version with the planned value", s.Name, ver)
				}
			}
			checkNoValues(t, sum2, err, journal, src.all())
		})
	}
}

func TestVaultSharedPathAndDeletedVersion(t *testing.T) {
	e := vaultEnv(t)
	ctx := context.Background()
	p, src := testPlan(t, e.KV2, 2, 3)
	for i := range p.Secrets {
		p.Secrets[i].Target.Path = "app/shared"
		p.Secrets[i].Target.Field = p.Secrets[i].EnvVar
	}
	// Someone's field already lives at the path and must survive.
	if _, err := e.Client.KVv2(e.KV2).Put(ctx, "app/shared", map[string]any{"THEIRS": "kept"}); err != nil {
		t.Fatal(err)
	}
	p.DiffStatus = "live"
	if err := Diff(ctx, openTest(t, p, Options{}), p, testFingerprinter(t)); err != nil {
		t.Fatal(err)
	}
	opts, _ := runOpts(t, src, "")
	sum, err := Run(ctx, openTest(t, p, Options{}), p, opts)
	if err != nil || !sum.OK() {
		t.Fatalf("%v %+v", err, sum)
	}
	s, err := e.Client.KVv2(e.KV2).Get(ctx, "app/shared")
	if err != nil {
		t.Fatal(err)
	}
	if s.Data["THEIRS"] != "kept" || len(s.Data) != 4 || s.VersionMetadata.Version != 4 {
		t.Errorf("fields %d, version %d, THEIRS=%v", len(s.Data), s.VersionMetadata.Version, s.Data["THEIRS"])
	}

	// A path whose latest version was deleted is written over with
	// check-and-set on that version.
	p2, src2 := testPlan(t, e.KV2, 2, 1)
	tg := p2.Secrets[0].Target
	if _, err := e.Client.KVv2(e.KV2).Put(ctx, tg.Path, map[string]any{"value": "old"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.KVv2(e.KV2).Delete(ctx, tg.Path); err != nil {
		t.Fatal(err)
	}
	opts2, _ := runOpts(t, src2, "")
	sum, err = Run(ctx, openTest(t, p2, Options{}), p2, opts2)
	if err != nil {
		t.Fatal(err)
	}
	if r := sum.Results[0]; r.Action != plan.ActionCreate || r.Version != "2" {
		t.Errorf("over a deleted version: %+v", r)
	}
}

func TestVaultDiff(t *testing.T) {
	e := vaultEnv(t)
	ctx := context.Background()
	p, src := testPlan(t, e.KV2, 2, 4)
	kv := e.Client.KVv2(e.KV2)
	put := func(i int, v any) {
		if _, err := kv.Put(ctx, p.Secrets[i].Target.Path, map[string]any{"value": v}); err != nil {
			t.Fatal(err)
		}
	}
	put(1, src.vals[p.Secrets[1].EnvVar])
	put(2, canary("other"))
	put(3, map[string]any{"nested": true})
	if err := Diff(ctx, openTest(t, p, Options{}), p, testFingerprinter(t)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Secrets {
		got = append(got, s.Action)
	}
	if strings.Join(got, ",") != "create,no-op,update,conflict" {
		t.Errorf("actions %v", got)
	}
}

func TestCheckVaultAddr(t *testing.T) {
	tests := []struct {
		addr  string
		allow bool
		want  string
	}{
		{"https://vault.example.com:8200", false, ""},
		{"http://127.0.0.1:8200", false, ""},
		{"http://localhost:8200", false, ""},
		{"http://[::1]:8200", false, ""},
		{"http://vault.example.com:8200", false, "refusing to send the Vault token over plain http:// to vault.example.com:8200"},
		{"http://10.0.0.5:8200", false, "refusing"},
		{"http://vault.example.com:8200", true, ""},
		{"ftp://vault", false, "unsupported scheme"},
		{"vault.example.com", false, "not a URL"},
	}
	for _, tt := range tests {
		err := checkVaultAddr(tt.addr, tt.allow)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkVaultAddr(%q, %v) = %v, want %q", tt.addr, tt.allow, err, tt.want)
		}
	}
	// Through Open, from the environment.
	t.Setenv("VAULT_ADDR", "http://vault.example.com:8200")
	t.Setenv("VAULT_TOKEN", "x")
	if _, err := Open(context.Background(), plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}, Options{}); err == nil || !strings.Contains(err.Error(), "--insecure-http") {
		t.Errorf("Open over plain http to a remote host: %v", err)
	}
	if _, err := Open(context.Background(), plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}, Options{AllowInsecureHTTP: true}); err != nil {
		t.Errorf("Open with AllowInsecureHTTP: %v", err)
	}
}

func TestVaultCheckMessages(t *testing.T) {
	e := vaultEnv(t)
	ctx := context.Background()
	be := func(mount string, kv int) plan.Backend {
		return plan.Backend{Kind: plan.BackendVault, Mount: mount, KVVersion: kv}
	}
	check := func(b plan.Backend) error {
		t.Helper()
		v, err := Open(ctx, b, Options{})
		if err != nil {
			return err
		}
		return v.Check(ctx)
	}
	if err := check(be(e.KV2, 2)); err != nil {
		t.Errorf("KV v2: %v", err)
	}
	if err := check(be(e.KV1, 1)); err != nil {
		t.Errorf("KV v1: %v", err)
	}
	tests := []struct {
		name string
		b    plan.Backend
		env  map[string]string
		want string
	}{
		{"wrong kv version", be(e.KV1, 2), nil, "is KV v1 but the plan says kv_version 2"},
		{"no such mount", be("nope-"+e.KV2, 2), nil, "has no secrets engine at nope-"},
		{"bad token", be(e.KV2, 2), map[string]string{"VAULT_TOKEN": "not-a-token"}, "Vault rejected the token (403"},
		{"unreachable", be(e.KV2, 2), map[string]string{"VAULT_ADDR": "http://" + closedAddr(t)}, "cannot reach Vault at http://127.0.0.1:"},
		{"no token", be(e.KV2, 2), map[string]string{"VAULT_TOKEN": ""}, "no Vault token: VAULT_TOKEN is unset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := check(tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line message: %q", err)
			}
		})
	}
}

func TestVaultTokenFromTokenFile(t *testing.T) {
	e := vaultEnv(t)
	home := os.Getenv("HOME")
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte(e.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_TOKEN", "")
	b, err := Open(context.Background(), plan.Backend{Kind: plan.BackendVault, Mount: e.KV2, KVVersion: 2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(context.Background()); err != nil {
		t.Errorf("with ~/.vault-token: %v", err)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

func TestVaultTLS(t *testing.T) {
	srv := vaulttest.Start(t, vaulttest.Options{TLS: true})
	t.Setenv("HOME", t.TempDir())
	t.Setenv("VAULT_ADDR", srv.Addr)
	t.Setenv("VAULT_TOKEN", srv.Token)
	b := plan.Backend{Kind: plan.BackendVault, Mount: srv.KV2, KVVersion: 2}
	check := func() error {
		v, err := Open(context.Background(), b, Options{})
		if err != nil {
			return err
		}
		return v.Check(context.Background())
	}

	t.Setenv("VAULT_CACERT", srv.CACert)
	if err := check(); err != nil {
		t.Fatalf("with the right CA: %v", err)
	}
	p, src := testPlan(t, srv.KV2, 2, 3)
	opts, _ := runOpts(t, src, "")
	v, _ := Open(context.Background(), b, Options{})
	if sum, err := Run(context.Background(), v, p, opts); err != nil || sum.Counts[plan.ActionCreate] != 3 {
		t.Fatalf("migrating over TLS: %v %v", err, sum)
	}

	t.Setenv("VAULT_CACERT", otherCA(t))
	if err := check(); err == nil || !strings.Contains(err.Error(), "TLS failed") || !strings.Contains(err.Error(), "VAULT_CACERT") {
		t.Errorf("with the wrong CA: %v", err)
	}
	t.Setenv("VAULT_CACERT", "")
	if err := check(); err == nil || !strings.Contains(err.Error(), "TLS failed") {
		t.Errorf("with no CA: %v", err)
	}
	t.Setenv("VAULT_CACERT", filepath.Join(t.TempDir(), "missing.pem"))
	if _, err := Open(context.Background(), b, Options{}); err == nil || !strings.Contains(err.Error(), "VAULT_CACERT") {
		t.Errorf("with a missing CA file: %v", err)
	}
}

// otherCA writes a self-signed CA certificate that signed nothing.
func otherCA(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "not the Vault CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// faultProxy sits in front of the real server and answers some requests
// itself.
type faultProxy struct {
	mu sync.Mutex
	// rule decides per request: 0 forwards; otherwise it answers with
	// that status (after forwarding when forward is true).
	rule func(r *http.Request) (status int, forward bool, header http.Header)
}

func startProxy(t *testing.T, target string, fp *faultProxy) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fp.mu.Lock()
		status, forward, h := fp.rule(r)
		fp.mu.Unlock()
		if status == 0 {
			rp.ServeHTTP(w, r)
			return
		}
		if forward {
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
		}
		body := fmt.Sprintf(`{"errors":["injected %d"]}`, status)
		for k, v := range h {
			if k == "X-Test-Body" {
				body = v[0]
				continue
			}
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestVaultFaultsThroughProxy(t *testing.T) {
	e := vaultEnv(t)
	isDataWrite := func(r *http.Request) bool {
		return (r.Method == http.MethodPut || r.Method == http.MethodPost) && strings.Contains(r.URL.Path, "/data/")
	}
	tests := []struct {
		name string
		rule func(n *atomic.Int64) func(r *http.Request) (int, bool, http.Header)
		// check inspects the single secret's result and the sleeps.
		wantAction string
		wantErr    string
		minWait    time.Duration
	}{
		{
			name: "429 with Retry-After on writes",
			rule: func(n *atomic.Int64) func(r *http.Request) (int, bool, http.Header) {
				return func(r *http.Request) (int, bool, http.Header) {
					if isDataWrite(r) && n.Add(1) <= 2 {
						return http.StatusTooManyRequests, false, http.Header{"Retry-After": {"2"}}
					}
					return 0, false, nil
				}
			},
			wantAction: plan.ActionCreate, minWait: 2 * time.Second,
		},
		{
			name: "500 on the first read",
			rule: func(n *atomic.Int64) func(r *http.Request) (int, bool, http.Header) {
				return func(r *http.Request) (int, bool, http.Header) {
					if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/data/") && n.Add(1) == 1 {
						return http.StatusInternalServerError, false, nil
					}
					return 0, false, nil
				}
			},
			wantAction: plan.ActionCreate,
		},
		{
			name: "write applied but the answer is a 502",
			rule: func(n *atomic.Int64) func(r *http.Request) (int, bool, http.Header) {
				return func(r *http.Request) (int, bool, http.Header) {
					if isDataWrite(r) && n.Add(1) == 1 {
						return http.StatusBadGateway, true, nil
					}
					return 0, false, nil
				}
			},
			wantAction: plan.ActionCreate,
		},
		{
			name: "a fresh KV v2 mount still upgrading",
			rule: func(n *atomic.Int64) func(r *http.Request) (int, bool, http.Header) {
				return func(r *http.Request) (int, bool, http.Header) {
					if strings.Contains(r.URL.Path, "/data/") && n.Add(1) <= 2 {
						return http.StatusBadRequest, false, http.Header{"X-Test-Body": {`{"errors":["Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly."]}`}}
					}
					return 0, false, nil
				}
			},
			wantAction: plan.ActionCreate,
		},
		{
			name: "403 on the write",
			rule: func(n *atomic.Int64) func(r *http.Request) (int, bool, http.Header) {
				return func(r *http.Request) (int, bool, http.Header) {
					if isDataWrite(r) {
						return http.StatusForbidden, false, nil
					}
					return 0, false, nil
				}
			},
			wantAction: ActionFailed, wantErr: "Vault rejected the token (403",
		},
		{
			name: "503 forever",
			rule: func(n *atomic.Int64) func(r *http.Request) (int, bool, http.Header) {
				return func(r *http.Request) (int, bool, http.Header) {
					if strings.Contains(r.URL.Path, "/data/") {
						return http.StatusServiceUnavailable, false, nil
					}
					return 0, false, nil
				}
			},
			wantAction: ActionFailed, wantErr: "gave up after 6 tries",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			t.Setenv("VAULT_ADDR", startProxy(t, e.Addr, &faultProxy{rule: tt.rule(&n)}))
			p, src := testPlan(t, e.KV2, 2, 1)
			p.Secrets[0].Target.Path += "-" + strings.ReplaceAll(tt.name, " ", "-")
			journal := filepath.Join(t.TempDir(), "j")
			opts, ns := runOpts(t, src, journal)
			sum, err := Run(context.Background(), openTest(t, p, Options{}), p, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := sum.Results[0]
			if r.Action != tt.wantAction || !strings.Contains(r.Error, tt.wantErr) {
				t.Fatalf("got %+v, want %s %q", r, tt.wantAction, tt.wantErr)
			}
			if tt.wantAction == plan.ActionCreate {
				if _, ver, _ := stored(t, e, 2, p.Secrets[0].Target); ver != 1 || r.Version != "1" {
					t.Errorf("version %d (result %s), want exactly 1", ver, r.Version)
				}
			}
			longest := time.Duration(0)
			for _, w := range ns.waits {
				longest = max(longest, w)
			}
			if longest < tt.minWait {
				t.Errorf("longest wait %s, want at least %s (Retry-After)", longest, tt.minWait)
			}
			checkNoValues(t, sum, err, journal, src.all())
		})
	}
}

func TestVaultErrorsAreOneLineAndValueFree(t *testing.T) {
	e := vaultEnv(t)
	p, src := testPlan(t, e.KV2, 2, 1)
	b := openTest(t, p, Options{})
	ctx := context.Background()
	_, err := b.Get(ctx, plan.Target{Mount: "no-such-mount-" + e.KV2, Path: "x", Field: "value"})
	if err == nil || !strings.Contains(err.Error(), "has no secrets engine at no-such-mount-") {
		t.Errorf("reading from a missing mount: %v", err)
	}
	// A policy that denies the path: one line, wrapping the api error.
	if err := e.Client.Sys().PutPolicy("deny-"+e.KV2, `path "`+e.KV2+`/*" { capabilities = ["deny"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := e.Client.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"deny-" + e.KV2}, TTL: "5m"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_TOKEN", tok.Auth.ClientToken)
	b = openTest(t, p, Options{})
	if err := b.Check(ctx); err != nil {
		t.Errorf("Check with a token that may not list mounts: %v", err)
	}
	var re *api.ResponseError
	_, err = b.Put(ctx, p.Secrets[0].Target, secret.New(src.vals[p.Secrets[0].EnvVar]), Metadata{Name: "x"}, Current{})
	if err == nil || strings.Contains(err.Error(), "\n") || !errors.As(err, &re) || !strings.Contains(err.Error(), "403") {
		t.Errorf("got %q; want one line wrapping the api error", err)
	}
	noCanary(t, "error", fmt.Sprintf("%v %+v", err, err), src.all())
}

func TestVaultWithoutMetadataPolicy(t *testing.T) {
	e := vaultEnv(t)
	pol := "data-only-" + e.KV2
	if err := e.Client.Sys().PutPolicy(pol, `path "`+e.KV2+`/data/*" { capabilities = ["create", "read", "update"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := e.Client.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{pol}, TTL: "5m"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_TOKEN", tok.Auth.ClientToken)
	p, src := testPlan(t, e.KV2, 2, 2)
	opts, _ := runOpts(t, src, "")
	sum, err := Run(context.Background(), openTest(t, p, Options{}), p, opts)
	if err != nil || sum.Counts[plan.ActionCreate] != 2 {
		t.Fatalf("%v %+v", err, sum)
	}
	if _, ver, md := stored(t, e, 2, p.Secrets[0].Target); ver != 1 || len(md) != 0 {
		t.Errorf("version %d, custom_metadata %v; want version 1 without metadata", ver, md)
	}
}

// TestVaultServerDown kills a private server half-way through a run: the
// rest fail after retries with a clear reason; after a restart a rerun
// finishes the job.
func TestVaultServerDown(t *testing.T) {
	srv := vaulttest.Start(t, vaulttest.Options{})
	t.Setenv("HOME", t.TempDir())
	t.Setenv("VAULT_ADDR", srv.Addr)
	t.Setenv("VAULT_TOKEN", srv.Token)
	t.Setenv("VAULT_CACERT", "")
	p, src := testPlan(t, srv.KV2, 2, 6)
	journal := filepath.Join(t.TempDir(), "plan.yaml.journal")
	opts, ns := runOpts(t, src, journal)
	opts.Concurrency = 1
	fb := &faultBackend{Backend: openTest(t, p, Options{})}
	var puts atomic.Int64
	fb.beforePut = func(plan.Target) {
		if puts.Add(1) == 3 {
			srv.Kill()
		}
	}
	sum, err := Run(context.Background(), fb, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts[plan.ActionCreate] != 2 || sum.Counts[ActionFailed] != 4 {
		t.Fatalf("counts %v", sum.Counts)
	}
	if r := sum.Results[2]; !strings.Contains(r.Error, "gave up after 6 tries: cannot reach Vault at "+srv.Addr) {
		t.Errorf("reason %q", r.Error)
	}
	if len(ns.waits) == 0 {
		t.Error("no retries")
	}
	srv.Restart()
	sum, err = Run(context.Background(), openTest(t, p, Options{}), p, opts)
	if err != nil || !sum.OK() {
		t.Fatalf("after the restart: %v %v", err, sum.Counts)
	}
	c := srv.Client()
	for _, s := range p.Secrets {
		m, err := c.KVv2(srv.KV2).GetMetadata(context.Background(), s.Target.Path)
		if err != nil || m.CurrentVersion != 1 {
			t.Errorf("%s: %v, version %v", s.Name, err, m)
		}
	}
	checkNoValues(t, sum, err, journal, src.all())
}

// BenchmarkVaultRun migrates 200 secrets into the dev server per
// iteration (push + read-back), reporting secrets per second.
func BenchmarkVaultRun(b *testing.B) {
	e := vaulttest.Server(b)
	for _, kv := range []string{"VAULT_ADDR=" + e.Addr, "VAULT_TOKEN=" + e.Token} {
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	const n = 200
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		p, src := testPlan(b, e.KV2, 2, n)
		for j := range p.Secrets {
			p.Secrets[j].Target.Path = fmt.Sprintf("bench%d/%s", i, p.Secrets[j].Name)
		}
		be, err := Open(context.Background(), p.Backend, Options{})
		if err != nil {
			b.Fatal(err)
		}
		opts := RunOptions{Fingerprinter: testFingerprinter(b), Concurrency: 16, Resolve: src.resolve}
		b.StartTimer()
		start := time.Now()
		sum, err := Run(context.Background(), be, p, opts)
		total += time.Since(start)
		if err != nil || sum.Counts[plan.ActionCreate] != n {
			b.Fatalf("%v %v", err, sum.Counts)
		}
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "secrets/s")
}
