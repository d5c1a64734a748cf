//! What one peer may cost this node: token buckets for messages, bytes,
//! records to verify and heads exchanges, and a misbehaviour score that
//! decays. A peer over budget has its message dropped and its score raised;
//! a peer whose score reaches [`BAN_SCORE`] is disconnected and banned.

/// Score at which a peer is disconnected and banned.
pub const BAN_SCORE: u32 = 100;

/// Refill rates and burst sizes of a peer's buckets.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub messages_per_s: f64,
    pub message_burst: f64,
    pub bytes_per_s: f64,
    pub byte_burst: f64,
    /// Records pushed, announced, asked for or listed by a pull from us.
    /// Records a peer sends in answer to our own ask are not charged: we
    /// asked (and an answer may carry only what was asked for).
    /// Forged ones cost the sender its connection within two (penalties),
    /// copies of stored ones are dropped before verification.
    pub records_per_s: f64,
    pub record_burst: f64,
    /// Digests, heads and trust-list requests: the questions whose answers
    /// cost more than the asking (one round needs a digest and a heads).
    pub exchanges_per_min: f64,
    pub exchange_burst: f64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            messages_per_s: 200.0,
            message_burst: 2_000.0,
            bytes_per_s: 4.0 * 1024.0 * 1024.0,
            byte_burst: 32.0 * 1024.0 * 1024.0,
            records_per_s: 20_000.0,
            record_burst: 100_000.0,
            exchanges_per_min: 6.0,
            exchange_burst: 3.0,
        }
    }
}

/// A token bucket over the replica's clock (ms).
#[derive(Debug, Clone)]
pub struct Bucket {
    tokens: f64,
    per_ms: f64,
    burst: f64,
    at_ms: u64,
}

impl Bucket {
    pub fn new(per_s: f64, burst: f64, now_ms: u64) -> Bucket {
        Bucket { tokens: burst, per_ms: per_s / 1000.0, burst, at_ms: now_ms }
    }

    /// Takes `n` tokens if there are enough.
    pub fn take(&mut self, n: f64, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64;
        self.tokens = (self.tokens + elapsed * self.per_ms).min(self.burst);
        self.at_ms = now_ms;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// One peer's buckets.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub messages: Bucket,
    pub bytes: Bucket,
    pub records: Bucket,
    pub exchanges: Bucket,
}

impl Buckets {
    pub fn new(b: &Budget, now_ms: u64) -> Buckets {
        Buckets {
            messages: Bucket::new(b.messages_per_s, b.message_burst, now_ms),
            bytes: Bucket::new(b.bytes_per_s, b.byte_burst, now_ms),
            records: Bucket::new(b.records_per_s, b.record_burst, now_ms),
            exchanges: Bucket::new(b.exchanges_per_min / 60.0, b.exchange_burst, now_ms),
        }
    }
}

/// Why a peer was penalised, and how much it costs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Offence {
    /// Over its message, byte or record budget.
    Flooding,
    /// Too many digest, heads or trust-list requests.
    HeadsAmplification,
    /// Bytes that are not a record, or a record over the size limit.
    Malformed,
    /// A record whose signature does not verify.
    BadSignature,
    /// A record of a channel it may not send us, or from a non-member.
    NotEntitled,
    /// A trust list that is forged, under-signed or for another network.
    BadTrustList,
    /// An older trust list than ours.
    StaleTrustList,
    /// Another fork of a slot whose equivocation is already proven.
    EquivocationSpam,
    /// A message that makes no sense in the protocol (wrong network…).
    Protocol,
    /// Announced records it then did not send: a third ask in a row left
    /// unanswered for 10 s (and each after), or "missing" for records it
    /// had announced.
    Withholding,
}

impl Offence {
    pub fn points(self) -> u32 {
        match self {
            Offence::Flooding => 2,
            Offence::HeadsAmplification => 5,
            Offence::Malformed => 25,
            Offence::BadSignature => 50,
            Offence::NotEntitled => 10,
            Offence::BadTrustList => 50,
            Offence::StaleTrustList => 1,
            Offence::EquivocationSpam => 5,
            Offence::Protocol => 10,
            Offence::Withholding => 20,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Offence::Flooding => "flooding",
            Offence::HeadsAmplification => "heads_amplification",
            Offence::Malformed => "malformed",
            Offence::BadSignature => "bad_signature",
            Offence::NotEntitled => "not_entitled",
            Offence::BadTrustList => "bad_trust_list",
            Offence::StaleTrustList => "stale_trust_list",
            Offence::EquivocationSpam => "equivocation_spam",
            Offence::Protocol => "protocol",
            Offence::Withholding => "withholding",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let mut b = Bucket::new(10.0, 5.0, 0);
        assert!((0..5).all(|_| b.take(1.0, 0)), "the burst is there at once");
        assert!(!b.take(1.0, 0), "then it is empty");
        assert!(b.take(1.0, 100), "10/s: one token after 100 ms");
        assert!(!b.take(1.0, 100));
        assert!(b.take(5.0, 10_000) && !b.take(1.0, 10_000), "never more than the burst");
    }
}
