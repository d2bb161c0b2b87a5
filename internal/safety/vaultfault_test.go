package safety

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/env2vault/env2vault/internal/vaulttest"
)

// faultProxy stands in front of a real Vault and answers the requests
// match selects with a fault instead: an HTTP status (with a Vault-style
// error body; 429 also with Retry-After) or, for status 0, a hang until
// the client gives up.
type faultProxy struct {
	rp *httputil.ReverseProxy

	mu     sync.Mutex
	status int
	match  func(path string) bool
	hits   int
}

func newFaultProxy(t *testing.T, vaultAddr string) (*faultProxy, string) {
	t.Helper()
	u, err := url.Parse(vaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{rp: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *faultProxy) set(status int, match func(string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.match, p.hits = status, match, 0
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	fault := p.match != nil && p.match(r.URL.Path)
	status := p.status
	if fault {
		p.hits++
	}
	p.mu.Unlock()
	if !fault {
		p.rp.ServeHTTP(w, r)
		return
	}
	if status == 0 {
		<-r.Context().Done() // hang until the client gives up
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	w.Write([]byte(`{"errors":["simulated fault"]}`))
}

// TestBadInputVault runs the commands that talk to Vault through a proxy
// that fails every request (403, 429, 500, or a hang ended by the client
// timeout), or only the KV requests after the token check passed. Each
// ends with exit 2 or 3 and a message naming the problem, writes nothing
// to Vault or to the repo, and never starts run's child.
func TestBadInputVault(t *testing.T) {
	env := vaulttest.Server(t)
	sb := newSandbox(t)
	env.Setenv(t)
	ctx := context.Background()
	// A one-secret repo, planned and migrated nowhere yet.
	token := randomToken(t, 32)
	repo := filepath.Join(sb.base, "org", "svc")
	os.MkdirAll(repo, 0o755)
	os.WriteFile(filepath.Join(repo, ".env.production"), []byte("API_TOKEN="+token+"\n"), 0o600)
	os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main\n\nimport \"os\"\n\nfunc main() { println(len(os.Getenv(\"API_TOKEN\"))) }\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module example.com/svc\n\ngo 1.22\n"), 0o644)
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	planFile := filepath.Join(sb.out, "plan.yaml")
	if r := execute(t, "plan", "--offline", "--vault-mount", env.KV2, "-o", planFile, filepath.Dir(repo)); r.code != 1 {
		t.Fatalf("%s", r.show(nil))
	}
	before := snapshot(t, repo)
	proxy, addr := newFaultProxy(t, env.Addr)
	t.Setenv("VAULT_ADDR", addr)
	t.Setenv("VAULT_CLIENT_TIMEOUT", "1s")
	self, _ := os.Executable()
	t.Setenv(childEnv, "digest")
	t.Setenv(digestKeysEnv, "API_TOKEN")

	all := func(string) bool { return true }
	kv := func(p string) bool { return strings.HasPrefix(p, "/v1/"+env.KV2+"/") }
	statusWords := map[int]string{403: "Vault rejected the token (403", 429: "Vault answered 429", 500: "Vault answered 500", 0: "did not answer within 1s"}

	type step struct {
		args    []string
		code    int
		phrases []string
	}
	for _, status := range []int{403, 429, 500, 0} {
		word := statusWords[status]
		name := map[int]string{403: "403", 429: "429", 500: "500", 0: "hang"}[status]
		t.Run(name+" on every request", func(t *testing.T) {
			proxy.set(status, all)
			// plan works offline: it still writes the plan and says why
			// the live diff did not run.
			r := execute(t, "plan", "--vault-mount", env.KV2, "-o", filepath.Join(sb.out, "live-"+name+".yaml"), filepath.Dir(repo))
			if r.code != 1 || !strings.Contains(r.stdout, "offline: ") || !strings.Contains(r.stdout, word) {
				t.Errorf("plan against a failing Vault should plan offline and say why (%q)\n%s", word, r.show(nil))
			}
			for _, s := range []step{
				{[]string{"migrate", "--plan", planFile, "--yes"}, 2, []string{word}},
				{[]string{"verify", "--plan", planFile}, 2, []string{word}},
				{[]string{"rewrite", "--plan", planFile, "--yes"}, 2, []string{word}},
				{[]string{"run", "--plan", planFile, "--env", "prod", "--", self}, 2, []string{word}},
			} {
				r := execute(t, s.args...)
				expectFailure(t, r, s.code, s.phrases, token)
				if s.args[0] == "run" && strings.Contains(r.stdout, "API_TOKEN") {
					t.Error("run started its child without its secrets")
				}
			}
		})
		t.Run(name+" on KV requests only", func(t *testing.T) {
			proxy.set(status, kv)
			r := execute(t, "migrate", "--plan", planFile, "--yes")
			// The token check passes; the secret fails: exit 3, named.
			expectFailure(t, r, 3, []string{"api-token", word}, token)
			r = execute(t, "rewrite", "--plan", planFile, "--yes")
			expectFailure(t, r, 2, []string{"not rewriting"}, token)
			r = execute(t, "run", "--plan", planFile, "--env", "prod", "--", self)
			expectFailure(t, r, 2, []string{word}, token)
			proxy.mu.Lock()
			hits := proxy.hits
			proxy.mu.Unlock()
			if hits == 0 {
				t.Error("no KV request reached the fault")
			}
		})
	}
	proxy.set(0, nil)
	// Nothing reached Vault, and the repo is as it was.
	if l, err := env.Client.Logical().ListWithContext(ctx, env.KV2+"/metadata/svc"); err != nil || l != nil {
		t.Errorf("Vault holds secrets after only failed runs: %v %v", l, err)
	}
	after := snapshot(t, repo)
	if len(after) != len(before) {
		t.Errorf("the repo has %d files, had %d", len(after), len(before))
	}
	for p, b := range before {
		if string(after[p]) != string(b) {
			t.Errorf("%s changed", p)
		}
	}
	// With the faults gone, the same plan migrates.
	if r := execute(t, "migrate", "--plan", planFile, "--yes"); r.code != 0 {
		t.Errorf("migrate after the faults: %s", r.show(nil))
	}
}
