package env

import (
	"errors"
	"strings"

	"github.com/appnet/appnet-agent/internal/redact"
)

// VarError is one invalid variable: Name is the variable (or, for a rule between
// variables, the variables it involves, comma-separated) and Err what is wrong with it.
type VarError struct {
	Name string
	Err  error
}

// Error names the variable and what is wrong, with credentials in a quoted value redacted
// (a URL's password, token-like query parameters): errors end up in logs.
func (e *VarError) Error() string { return e.Name + ": " + redact.Text(e.Err.Error()) }
func (e *VarError) Unwrap() error { return e.Err }

// Errors lists every invalid variable, each a *VarError; Load returns all of them at once.
type Errors []error

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap exposes the elements to errors.Is and errors.As.
func (e Errors) Unwrap() []error { return e }

// varError builds a *VarError from a message.
func varError(name, msg string) *VarError { return &VarError{Name: name, Err: errors.New(msg)} }
