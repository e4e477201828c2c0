//! Seeded transactional histories (placeholder).
