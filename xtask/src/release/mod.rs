//! Release records: what was published for each image variant, stored in the
//! repository so that the README table and change detection can read it.

mod digest;
mod outcome;
mod records;
mod time;

pub use digest::{Digest, DigestError};
pub use outcome::{Conclusion, JobOutcome};
pub use records::{RECORDS_FILE, RecordsError, ReleaseRecord, ReleaseRecords};
pub use time::{ReleaseTime, ReleaseTimeError};
