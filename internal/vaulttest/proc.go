package vaulttest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Options configure a private dev server.
type Options struct {
	// TLS serves https with a CA generated into the test's temp folder
	// (Proc.CACert).
	TLS bool
}

// Proc is a private Vault dev server process owned by one test, for
// fault injection: Kill it to simulate an outage, Restart it to bring it
// back on the same address with the same token. A dev server keeps its
// data in memory, so a restart starts empty (with the same mounts).
type Proc struct {
	// Addr, Token and CACert reach the server.
	Addr, Token, CACert string
	// KV2 ("secret") and KV1 ("kv1") are the server's KV mounts.
	KV2, KV1 string

	t    testing.TB
	bin  string
	dir  string
	port int
	opts Options

	mu   sync.Mutex
	proc *os.Process
	done chan struct{} // closed when proc has exited
}

// Start runs a new dev server for t from the cached binary (see Binary)
// and stops it when the test ends. Without a binary it skips, or fails
// when ENV2VAULT_REQUIRE_VAULT is set.
func Start(t testing.TB, opts Options) *Proc {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		missing(t, err.Error())
	}
	p := &Proc{
		Token: "dev-" + randomHex(12),
		KV2:   "secret",
		KV1:   "kv1",
		t:     t,
		bin:   bin,
		dir:   t.TempDir(),
		opts:  opts,
	}
	t.Cleanup(p.Kill)
	var lastErr error
	for range 5 {
		if p.port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = p.start(); lastErr == nil {
			return p
		}
	}
	t.Fatalf("starting a Vault dev server: %v", lastErr)
	return nil
}

// Vars returns VAULT_ADDR, VAULT_TOKEN and (for TLS) VAULT_CACERT.
func (p *Proc) Vars() []string {
	e := Env{Addr: p.Addr, Token: p.Token, CACert: p.CACert}
	return e.Vars()
}

// Client returns a new root client for the server (no retries). After a
// TLS server restarts its CA is new, so take a fresh client.
func (p *Proc) Client() *api.Client {
	p.t.Helper()
	c, err := NewClient(p.Addr, p.Token, p.CACert)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// Kill stops the server at once (SIGKILL) and waits for it to exit. It
// is safe to call more than once.
func (p *Proc) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	_ = p.proc.Kill()
	<-p.done
	p.proc, p.done = nil, nil
}

// Running reports whether the server process is up.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Restart kills the server if it runs and starts a new one on the same
// address with the same token. Its storage starts empty.
func (p *Proc) Restart() {
	p.t.Helper()
	p.Kill()
	var err error
	for range 20 { // the old socket may linger for a moment
		if err = p.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("restarting the Vault dev server: %v", err)
}

// LogFile returns the path of the server's log.
func (p *Proc) LogFile() string { return filepath.Join(p.dir, "vault.log") }

func (p *Proc) start() error {
	scheme := "http"
	args := []string{"server", "-dev", "-dev-no-store-token",
		"-dev-root-token-id=" + p.Token,
		"-dev-listen-address=127.0.0.1:" + strconv.Itoa(p.port)}
	if p.opts.TLS {
		scheme = "https"
		certs := filepath.Join(p.dir, "tls")
		if err := os.MkdirAll(certs, 0o700); err != nil {
			return err
		}
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+certs)
		p.CACert = filepath.Join(certs, "vault-ca.pem")
		_ = os.Remove(p.CACert)
	}
	p.Addr = fmt.Sprintf("%s://127.0.0.1:%d", scheme, p.port)
	log, err := os.OpenFile(p.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(p.bin, args...)
	// A private HOME keeps the server and CLI away from ~/.vault-token.
	cmd.Env = append(os.Environ(), "HOME="+p.dir, "VAULT_ADDR=", "VAULT_TOKEN=")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", p.bin, err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	if err := p.waitReady(exited); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return err
	}
	p.mu.Lock()
	p.proc, p.done = cmd.Process, done
	p.mu.Unlock()
	return nil
}

func (p *Proc) waitReady(exited chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(p.LogFile())
			return fmt.Errorf("the Vault dev server exited (%v): %s", err, tail(b, 800))
		case <-ctx.Done():
			return errors.New("the Vault dev server did not become healthy within a minute")
		case <-time.After(100 * time.Millisecond):
		}
		if p.CACert != "" {
			if _, err := os.Stat(p.CACert); err != nil {
				continue
			}
		}
		c, err := NewClient(p.Addr, p.Token, p.CACert)
		if err != nil {
			continue
		}
		h, err := c.Sys().HealthWithContext(ctx)
		if err != nil || !h.Initialized || h.Sealed {
			continue
		}
		if err := c.Sys().MountWithContext(ctx, p.KV1, &api.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
			return fmt.Errorf("enabling the kv1 mount: %w", err)
		}
		if err := WaitWritable(ctx, c, p.KV2, 2); err != nil {
			return err
		}
		return nil
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if port == 8200 || port == 8201 {
		return 0, errors.New("got the default Vault port")
	}
	return port, nil
}
