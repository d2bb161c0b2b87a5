package tui

import "charm.land/bubbles/v2/key"

// keyMap holds every binding the wizard uses; each screen shows the ones
// that apply to it (see Model.bindings).
type keyMap struct {
	Quit key.Binding
	Help key.Binding
	// Move and Switch only label the arrow keys in the help line.
	Move     key.Binding
	Switch   key.Binding
	Up       key.Binding
	Down     key.Binding
	PrevTab  key.Binding
	NextTab  key.Binding
	Toggle   key.Binding
	Ignore   key.Binding
	Continue key.Binding
	Edit     key.Binding
	Retry    key.Binding
	Push     key.Binding
	Yes      key.Binding
	No       key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Apply    key.Binding
	Export   key.Binding
	Finish   key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Quit:     key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Move:     key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move")),
		Switch:   key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "switch")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PrevTab:  key.NewBinding(key.WithKeys("left", "h", "shift+tab"), key.WithHelp("←/h", "previous")),
		NextTab:  key.NewBinding(key.WithKeys("right", "l", "tab"), key.WithHelp("→/l", "next")),
		Toggle:   key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "include/exclude")),
		Ignore:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "false positive")),
		Continue: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Edit:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit settings")),
		Retry:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Push:     key.NewBinding(key.WithKeys("p", "enter"), key.WithHelp("p/enter", "push")),
		Yes:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		No:       key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/b", "scroll up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "f"), key.WithHelp("pgdn/f", "scroll down")),
		Apply:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "apply accepted")),
		Export:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export")),
		Finish:   key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "finish")),
	}
}

// helpKeys adapts a screen's bindings to help.KeyMap.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
