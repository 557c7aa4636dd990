//! Files read and written a chunk at a time, for `vexpr eval`.
//!
//! In: the `VALUE` of a `NAME=VALUE` argument that names data, and the `-o`
//! target. Out: a [`vexpr::chunked::Source`] per input and a
//! [`vexpr::chunked::Sink`] for the result, so that the library streams them
//! with bounded memory.
//!
//! Inputs: a `.npy` file (read in place with positioned reads, never
//! mapped: a mapped file that shrinks while it is read kills the process
//! with SIGBUS, where a read just fails); `FILE.npz:NAME`, an array of an
//! `.npz` archive (`FILE.npz` alone: the array named like the variable, or
//! the archive's only one), read in place when stored and through a
//! decompressor when deflated (as `np.savez_compressed` writes); and `-`, a
//! `.npy` on standard input, read once, front to back.
//!
//! The result goes to a temporary file beside the target, renamed into place
//! only once complete ([`FileSink::finish`]): a failure or Ctrl-C leaves an
//! existing target untouched and no temporary file behind. `OUT.npz` (or
//! `OUT.npz:NAME`) writes an archive of one stored array (named `arr_0`, as
//! `np.savez` names an unnamed one); `-` writes a `.npy` to standard output.
//!
//! Headers and the zip directory are read by `npyz` and `zip`, with the
//! checks of [`crate::npy::layout`]; the data length a header claims must
//! be the data there is (in an archive: the member's size), so that a file
//! that lies about its shape is refused before anything is read.

use crate::npy::Layout;
use flate2::read::DeflateDecoder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use vexpr::DType;
use vexpr::chunked::{Sink, Source};
use zip::CompressionMethod;

/// The longest `.npy` header read (NumPy writes headers of a few hundred
/// bytes; version 1 caps them at 64 KiB).
const MAX_HEADER: u64 = 1 << 20;

/// Where a `NAME=VALUE` argument's data lives.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// A `.npy` file.
    Npy(PathBuf),
    /// An array of an `.npz` archive: its name, or `None` for "the
    /// variable's name, or the only one".
    Npz(PathBuf, Option<String>),
    /// A `.npy` on standard input.
    Stdin,
}

impl Location {
    /// Reads `FILE.npy`, `FILE.npz`, `FILE.npz:NAME` and `-`.
    pub fn parse(value: &str) -> Location {
        if value == "-" {
            return Location::Stdin;
        }
        if let Some((path, name)) = value.rsplit_once(".npz:") {
            return Location::Npz(PathBuf::from(format!("{path}.npz")), Some(name.to_string()));
        }
        if value.ends_with(".npz") {
            return Location::Npz(PathBuf::from(value), None);
        }
        Location::Npy(PathBuf::from(value))
    }

    /// The location as the user wrote it, for messages.
    pub fn describe(&self) -> String {
        match self {
            Location::Npy(path) | Location::Npz(path, None) => path.display().to_string(),
            Location::Npz(path, Some(name)) => format!("{}:{name}", path.display()),
            Location::Stdin => "standard input".to_string(),
        }
    }
}

/// An input opened for chunked reading.
pub struct FileSource {
    layout: Layout,
    reader: Reader,
}

/// How the data bytes are reached.
enum Reader {
    /// In place in a file, from `offset`.
    Positioned { file: File, offset: u64 },
    /// Through a decompressor of the deflated bytes at `start` (of
    /// `compressed` bytes) of `path`, whose output starts with the header;
    /// reopened to go back.
    Deflated {
        path: PathBuf,
        start: u64,
        compressed: u64,
        stream: Option<DeflateDecoder<BufReader<std::io::Take<File>>>>,
        /// Data bytes the stream has given so far.
        at: u64,
    },
    /// Standard input, front to back; `at` data bytes read so far.
    Stdin { at: u64 },
}

/// An error message for `location`.
fn at(location: &Location, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", location.describe())
}

impl FileSource {
    /// Opens the data of `location` (`name` is the variable's, for an
    /// archive given without an array name), checking its header and length.
    pub fn open(location: &Location, name: &str) -> Result<FileSource, String> {
        match location {
            Location::Npy(path) => {
                let file =
                    File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let mut head = Vec::new();
                (&file)
                    .take(MAX_HEADER)
                    .read_to_end(&mut head)
                    .map_err(|e| at(location, e))?;
                let layout = crate::npy::layout(&head).map_err(|e| at(location, e))?;
                let size = file.metadata().map_err(|e| at(location, e))?.len();
                crate::npy::check_data_len(&layout, size.saturating_sub(layout.header_len as u64))
                    .map_err(|e| at(location, e))?;
                advise_sequential(&file);
                let offset = layout.header_len as u64;
                Ok(FileSource {
                    layout,
                    reader: Reader::Positioned { file, offset },
                })
            }
            Location::Npz(path, array) => open_member(location, path, array.as_deref(), name),
            Location::Stdin => {
                let mut head = Vec::new();
                read_header(&mut std::io::stdin().lock(), &mut head)
                    .map_err(|e| at(location, e))?;
                let layout = crate::npy::layout(&head).map_err(|e| at(location, e))?;
                Ok(FileSource {
                    layout,
                    reader: Reader::Stdin { at: 0 },
                })
            }
        }
    }

    /// The dtype the library computes the elements in.
    pub fn dtype(&self) -> DType {
        self.layout.format.storage.dtype()
    }
}

/// Reads a `.npy` header from a stream into `head`: the fixed prefix, then as
/// many bytes as it says the header has (at most [`MAX_HEADER`]).
fn read_header(stream: &mut impl Read, head: &mut Vec<u8>) -> std::io::Result<()> {
    let mut prefix = [0u8; 10];
    stream.read_exact(&mut prefix[..8])?;
    let rest = match prefix[6] {
        1 => {
            stream.read_exact(&mut prefix[8..10])?;
            u64::from(u16::from_le_bytes([prefix[8], prefix[9]]))
        }
        _ => {
            let mut len = [0u8; 4];
            stream.read_exact(&mut len)?;
            head.extend_from_slice(&prefix[..8]);
            head.extend_from_slice(&len);
            let len = u64::from(u32::from_le_bytes(len));
            return stream.take(len.min(MAX_HEADER)).read_to_end(head).map(drop);
        }
    };
    head.extend_from_slice(&prefix);
    stream
        .take(rest.min(MAX_HEADER))
        .read_to_end(head)
        .map(drop)
}

/// Opens array `array` (or the variable's, or the only one) of an archive.
fn open_member(
    location: &Location,
    path: &Path,
    array: Option<&str>,
    name: &str,
) -> Result<FileSource, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| at(location, format!("not a valid .npz file ({e})")))?;
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| at(location, format!("not a valid .npz file ({e})")))?;
    let arrays: Vec<String> = names
        .iter()
        .filter_map(|n| npyz::npz::array_name_from_file_name(n))
        .map(str::to_string)
        .collect();
    let wanted = match array {
        Some(array) => array.to_string(),
        None if arrays.iter().any(|a| a == name) => name.to_string(),
        None if arrays.len() == 1 => arrays[0].clone(),
        None => {
            return Err(at(
                location,
                format!(
                    "has no array named `{name}`; write FILE.npz:NAME with one of: {}",
                    arrays.join(", ")
                ),
            ));
        }
    };
    let member = archive
        .by_name(&npyz::npz::file_name_from_array_name(&wanted))
        .map_err(|_| {
            at(
                location,
                format!("has no array `{wanted}` (it has: {})", arrays.join(", ")),
            )
        })?;
    let (method, start, compressed, size) = (
        member.compression(),
        member.data_start().unwrap_or(0),
        member.compressed_size(),
        member.size(),
    );
    drop(member);
    let file = archive.into_inner().into_inner();
    let location = &Location::Npz(path.to_path_buf(), Some(wanted));
    let (layout, reader) = match method {
        CompressionMethod::Stored => {
            let mut head = vec![0u8; size.min(MAX_HEADER) as usize];
            file.read_exact_at(&mut head, start)
                .map_err(|e| at(location, e))?;
            let layout = crate::npy::layout(&head).map_err(|e| at(location, e))?;
            let offset = start + layout.header_len as u64;
            (layout, Reader::Positioned { file, offset })
        }
        CompressionMethod::Deflated => {
            let mut stream = deflated(path, start, compressed).map_err(|e| at(location, e))?;
            let mut head = Vec::new();
            read_header(&mut stream, &mut head).map_err(|e| at(location, e))?;
            let layout = crate::npy::layout(&head).map_err(|e| at(location, e))?;
            let reader = Reader::Deflated {
                path: path.to_path_buf(),
                start,
                compressed,
                stream: Some(stream),
                at: 0,
            };
            (layout, reader)
        }
        other => {
            return Err(at(
                location,
                format!("is compressed with {other}; vexpr reads stored and deflated arrays"),
            ));
        }
    };
    // The member's size, from the archive's directory, is the header and
    // the data: a header that claims more (or less) is refused here, and a
    // deflated stream that gives out early fails its read.
    crate::npy::check_data_len(&layout, size.saturating_sub(layout.header_len as u64))
        .map_err(|e| at(location, e))?;
    Ok(FileSource { layout, reader })
}

/// A decompressor of the `compressed` deflated bytes at `start` of `path`.
fn deflated(
    path: &Path,
    start: u64,
    compressed: u64,
) -> std::io::Result<DeflateDecoder<BufReader<std::io::Take<File>>>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    Ok(DeflateDecoder::new(BufReader::with_capacity(
        1 << 16,
        file.take(compressed),
    )))
}

/// Tells the kernel that `file` is read front to back, so that it reads
/// ahead more (a hint: its failure changes nothing).
fn advise_sequential(file: &File) {
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::Sequential);
}

impl Source for FileSource {
    fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    fn format(&self) -> vexpr::Format {
        self.layout.format
    }

    fn fortran_order(&self) -> bool {
        self.layout.fortran
    }

    fn read_at(&mut self, start: usize, buf: &mut [u8]) -> std::io::Result<()> {
        let width = self.layout.format.storage.itemsize() as u64;
        let from = start as u64 * width;
        let ended = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                std::io::Error::new(
                    e.kind(),
                    "the data ended early: the file is shorter than its header says \
                     (was it truncated while being read?)",
                )
            } else {
                e
            }
        };
        match &mut self.reader {
            Reader::Positioned { file, offset } => {
                let at = *offset + from;
                file.read_exact_at(buf, at).map_err(ended)?;
                // The next run is most likely the one after this: have the
                // kernel fetch it while this one is computed (and while the
                // other inputs are read), not only once it is asked for.
                let len = buf.len() as u64;
                let next = std::num::NonZeroU64::new(len);
                let _ = rustix::fs::fadvise(&*file, at + len, next, rustix::fs::Advice::WillNeed);
                Ok(())
            }
            Reader::Deflated {
                path,
                start: zip_start,
                compressed,
                stream,
                at,
            } => {
                if from < *at || stream.is_none() {
                    // Back to the beginning: a second pass (a reduction
                    // before the result), or another order.
                    let mut fresh = deflated(path, *zip_start, *compressed)?;
                    let mut head = Vec::new();
                    read_header(&mut fresh, &mut head)?;
                    *stream = Some(fresh);
                    *at = 0;
                }
                let reader = stream.as_mut().expect("opened above");
                skip(reader, from - *at).map_err(ended)?;
                reader.read_exact(buf).map_err(ended)?;
                *at = from + buf.len() as u64;
                Ok(())
            }
            Reader::Stdin { at } => {
                if from < *at {
                    return Err(std::io::Error::other(
                        "standard input can be read only once, front to back, and this \
                         expression reads it again (a reduction, or an order other than the \
                         other inputs'): save it to a file first",
                    ));
                }
                let mut stdin = std::io::stdin().lock();
                skip(&mut stdin, from - *at).map_err(ended)?;
                stdin.read_exact(buf).map_err(ended)?;
                *at = from + buf.len() as u64;
                Ok(())
            }
        }
    }
}

/// Reads and drops `n` bytes of `stream`.
fn skip(stream: &mut impl Read, n: u64) -> std::io::Result<()> {
    let skipped = std::io::copy(&mut stream.take(n), &mut std::io::sink())?;
    if skipped < n {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Where `-o` writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A `.npy` file.
    Npy(PathBuf),
    /// An `.npz` archive holding the result as array `name`.
    Npz(PathBuf, String),
    /// A `.npy` on standard output.
    Stdout,
}

impl Target {
    /// Reads `OUT.npy`, `OUT.npz`, `OUT.npz:NAME` and `-`.
    pub fn parse(value: &Path) -> Target {
        let text = value.to_string_lossy();
        match Location::parse(&text) {
            Location::Stdin => Target::Stdout,
            Location::Npz(path, name) => {
                Target::Npz(path, name.unwrap_or_else(|| "arr_0".to_string()))
            }
            Location::Npy(path) => Target::Npy(path),
        }
    }
}

/// The result written as it comes, to a temporary file that
/// [`FileSink::finish`] renames into place (or to standard output).
pub struct FileSink {
    target: Target,
    out: Option<Output>,
}

enum Output {
    /// A result of at least [`SYNC_FROM`] bytes, to a temporary file written
    /// by a thread of its own.
    File(Background),
    /// A smaller one, written as it comes: the page cache takes it whole,
    /// and a writer thread only made its runs slower and less even (E3 from
    /// a 1 GB file, cold cache: 0.83-0.94 s against 0.80-2.86 s).
    Small(std::io::BufWriter<tempfile::NamedTempFile>),
    /// A target that is not a regular file (`/dev/null`, a FIFO), written
    /// directly: renaming onto it would replace the device itself.
    Direct(std::io::BufWriter<File>),
    Archive(Box<zip::ZipWriter<tempfile::NamedTempFile>>),
    Stdout(std::io::BufWriter<std::io::Stdout>),
}

impl FileSink {
    /// A sink for `target`; nothing is created before the result starts.
    pub fn new(target: Target) -> FileSink {
        FileSink { target, out: None }
    }

    /// Puts the complete result in place: renames the temporary file onto
    /// the target (or flushes standard output).
    pub fn finish(self) -> Result<(), String> {
        let target = self.target;
        let fail = |e: &dyn std::fmt::Display| match &target {
            Target::Npy(path) | Target::Npz(path, _) => {
                format!("cannot write {}: {e}", path.display())
            }
            Target::Stdout => format!("cannot write to standard output: {e}"),
        };
        let temp = match self.out {
            None => return Ok(()),
            Some(Output::Stdout(mut out)) => return out.flush().map_err(|e| fail(&e)),
            Some(Output::Direct(mut out)) => return out.flush().map_err(|e| fail(&e)),
            Some(Output::File(out)) => out.finish().map_err(|e| fail(&e))?,
            Some(Output::Small(out)) => out.into_inner().map_err(|e| fail(&e.into_error()))?,
            Some(Output::Archive(archive)) => archive.finish().map_err(|e| fail(&e))?,
        };
        let path = match &target {
            Target::Npy(path) | Target::Npz(path, _) => placed(path),
            Target::Stdout => unreachable!("standard output has no temporary file"),
        };
        temp.persist(&path).map(drop).map_err(|e| fail(&e.error))
    }

    /// A temporary file in the directory of `path`, removed unless persisted.
    fn temporary(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The mode `File::create` gives (less the umask), not the private
        // one of temporary files: the file becomes the result.
        use std::os::unix::fs::PermissionsExt;
        tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".part")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
    }
}

impl Sink for FileSink {
    fn start(&mut self, shape: &[usize], dtype: DType, fortran_order: bool) -> std::io::Result<()> {
        let header = crate::npy::header(shape, dtype, fortran_order)?;
        let bytes = shape.iter().product::<usize>() as u64 * dtype.itemsize() as u64;
        let out = self.open(bytes).map_err(|e| match &self.target {
            // The target's name, not the temporary file's.
            Target::Npy(path) | Target::Npz(path, _) => {
                let why = e.raw_os_error().map_or_else(
                    || e.to_string(),
                    |code| std::io::Error::from_raw_os_error(code).to_string(),
                );
                std::io::Error::new(e.kind(), format!("cannot write {}: {why}", path.display()))
            }
            Target::Stdout => e,
        })?;
        let mut out = out;
        write_all(&mut out, &header)?;
        self.out = Some(out);
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.out {
            Some(out) => write_all(out, bytes),
            None => Err(std::io::Error::other(
                "the result was written before it started",
            )),
        }
    }
}

impl FileSink {
    /// Creates the output for a result of `bytes` bytes: a temporary file
    /// beside the target (written by a thread of its own from
    /// [`SYNC_FROM`] bytes), the target itself if it is not a regular file,
    /// or standard output.
    fn open(&self, bytes: u64) -> std::io::Result<Output> {
        Ok(match &self.target {
            Target::Npy(path) if is_special(path) => Output::Direct(
                std::io::BufWriter::with_capacity(1 << 20, File::create(path)?),
            ),
            Target::Npy(path) if bytes >= SYNC_FROM => {
                Output::File(Background::new(Self::temporary(&placed(path))?))
            }
            Target::Npy(path) => Output::Small(std::io::BufWriter::with_capacity(
                1 << 20,
                Self::temporary(&placed(path))?,
            )),
            Target::Npz(path, _) if is_special(path) => {
                return Err(std::io::Error::other(
                    "an .npz archive can only replace a regular file",
                ));
            }
            Target::Npz(path, name) => {
                let mut archive = zip::ZipWriter::new(Self::temporary(&placed(path))?);
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Stored)
                    .large_file(true);
                archive
                    .start_file(npyz::npz::file_name_from_array_name(name), options)
                    .map_err(std::io::Error::other)?;
                Output::Archive(Box::new(archive))
            }
            Target::Stdout => Output::Stdout(std::io::BufWriter::with_capacity(
                1 << 20,
                std::io::stdout(),
            )),
        })
    }
}

/// True when `path` exists and is not a regular file (after symbolic links).
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

/// Where the result replaces `path`: the file a symbolic link points to (as
/// writing through the link would), else `path` itself.
fn placed(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn write_all(out: &mut Output, bytes: &[u8]) -> std::io::Result<()> {
    match out {
        Output::File(w) => w.write(bytes),
        Output::Small(w) => w.write_all(bytes),
        Output::Direct(w) => w.write_all(bytes),
        Output::Archive(w) => w.write_all(bytes),
        Output::Stdout(w) => w.write_all(bytes),
    }
}

/// A temporary file written by a thread of its own, so that computing the
/// next chunk goes on while the kernel takes this one (a write into the page
/// cache blocks once too much of it waits for the disk). Past
/// [`SYNC_FROM`] bytes, the thread also has every [`SYNC_EVERY`] bytes
/// written to the disk and dropped from the page cache, so that a result
/// larger than memory streams at the disk's pace instead of filling the
/// cache and stalling, and leaves the cache to the inputs.
struct Background {
    chunks: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    /// Buffers the thread is done with, for the next chunks.
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<tempfile::NamedTempFile>>>,
}

/// Output bytes from which the writer syncs as it goes.
const SYNC_FROM: u64 = 1 << 30;
/// Bytes written between two syncs, past [`SYNC_FROM`].
const SYNC_EVERY: u64 = 256 << 20;

impl Background {
    fn new(file: tempfile::NamedTempFile) -> Background {
        // Two chunks in flight at most: memory stays a few chunk buffers.
        let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let (give_back, spare) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut file = file;
            let (mut written, mut synced) = (0u64, 0u64);
            for chunk in received {
                file.write_all(&chunk)?;
                written += chunk.len() as u64;
                let _ = give_back.send(chunk);
                if written >= SYNC_FROM && written - synced >= SYNC_EVERY {
                    file.as_file().sync_data()?;
                    let done = std::num::NonZeroU64::new(written - synced);
                    let dontneed = rustix::fs::Advice::DontNeed;
                    let _ = rustix::fs::fadvise(file.as_file(), synced, done, dontneed);
                    synced = written;
                }
            }
            Ok(file)
        });
        Background {
            chunks: Some(chunks),
            spare,
            thread: Some(thread),
        }
    }

    /// Hands `bytes` to the writer; its error, if it stopped on one.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut chunk = self.spare.try_recv().unwrap_or_default();
        chunk.clear();
        chunk.extend_from_slice(bytes);
        let sent = self.chunks.as_ref().map(|c| c.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread ended early: on an error, which it returns.
            _ => Err(self
                .stop()
                .err()
                .unwrap_or_else(|| std::io::Error::other("the output's writer stopped"))),
        }
    }

    /// Waits for everything to be written; the file.
    fn finish(mut self) -> std::io::Result<tempfile::NamedTempFile> {
        self.stop()
    }

    fn stop(&mut self) -> std::io::Result<tempfile::NamedTempFile> {
        drop(self.chunks.take());
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the output's writer panicked")),
            None => Err(std::io::Error::other("the output was already finished")),
        }
    }
}

impl Drop for Background {
    /// A run that failed or was interrupted drops its output unfinished:
    /// the thread is joined (not left to the process's exit), so that the
    /// temporary file it holds is removed.
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop();
        }
    }
}
