package tui

import (
	"context"
	"flag"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/tui/tuitest"
)

var update = flag.Bool("update", false, "update golden files")

// Fixed terminal size of the golden views.
const (
	goldenW = 100
	goldenH = 30
)

// harness drives a Model through tuitest, keeping access to its state.
type harness struct {
	*tuitest.Driver
	t *testing.T
	m *Model
}

func newHarness(t *testing.T, svc Services) *harness {
	t.Helper()
	m := New(context.Background(), Options{
		Services: svc,
		Inline:   true,
		Settings: Settings{
			Roots: []string{"/org"},
			TokenSource: func(kind string) string {
				if kind != plan.BackendVault {
					return "" // the wizard's own wording
				}
				return "Vault token: read from VAULT_TOKEN (set). The wizard never asks for it."
			},
		},
	})
	t.Cleanup(m.Wait)
	return &harness{Driver: tuitest.New(t, m, goldenW, goldenH), t: t, m: m}
}

func (h *harness) key(names ...string) { h.t.Helper(); h.Key(names...) }
func (h *harness) typeText(s string)   { h.t.Helper(); h.Type(s) }
func (h *harness) send(msg tea.Msg)    { h.t.Helper(); h.Send(msg) }
func (h *harness) golden(name string)  { h.t.Helper(); h.Golden(name, *update) }

// noCanary fails when any rendered screen holds a planted value.
func (h *harness) noCanary() {
	h.t.Helper()
	if h.Contains(canaries) {
		h.t.Fatal("a rendered screen contains a planted secret value")
	}
}
