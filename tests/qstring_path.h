#pragma once
// A filesystem path as the QString the Qt APIs under test take.
#include <QString>

#include <filesystem>

inline QString Q(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }
