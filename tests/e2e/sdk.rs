//! The SDK against our provider (owned by the SDK work).
