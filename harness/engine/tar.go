package engine

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ignoreFile names the patterns of files a build context leaves out, as
// with `docker build`.
const ignoreFile = ".dockerignore"

// contextMatcher reads dir's .dockerignore, as docker's own client does:
// the Dockerfile and the ignore file itself are always sent. nil when dir
// has no ignore file.
func contextMatcher(dir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ignoreFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	patterns = append(patterns, "!"+filepath.ToSlash(dockerfile), "!"+ignoreFile)
	return patternmatcher.New(patterns)
}

// tarDir writes dir as an uncompressed tar stream (the build context),
// leaving out what its .dockerignore names.
func tarDir(dir, dockerfile string, w io.Writer) error {
	pm, err := contextMatcher(dir, dockerfile)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		if pm != nil {
			skip, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
			if err != nil {
				return err
			}
			if skip {
				// A directory is walked on only when an exception may bring back part of it.
				if e.IsDir() && !pm.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		return addFile(tw, p, rel, e)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// addFile writes one entry of the context.
func addFile(tw *tar.Writer, p, rel string, e fs.DirEntry) error {
	info, err := e.Info()
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&os.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	h, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	h.Name = filepath.ToSlash(rel)
	if info.IsDir() {
		h.Name += "/"
	}
	// Owner and times do not matter to the image; fixed values keep builds cacheable.
	h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if info.Mode().IsRegular() {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		return err
	}
	return nil
}

type buildMessage struct {
	Stream string `json:"stream"`
	Error  string `json:"error"`
}
