// cv::Mat <-> Qt image conversion at the widget boundary (core images are RGB CV_8UC3).
#pragma once

#include <QImage>
#include <QString>

#include <filesystem>

#include <opencv2/core.hpp>

namespace animerun::widgets {

// RGB CV_8UC3 -> QImage::Format_RGB888, grey CV_8UC1 -> Format_Grayscale8 (deep copies).
// Empty or other types give a null QImage.
QImage ToQImage(const cv::Mat& mat);

// Paths for messages and settings: std::filesystem <-> QString without locale surprises
// (paths hold UTF-8 bytes on Linux; C++20's u8string()/u8path would need char8_t).
inline QString ToQString(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }
inline std::filesystem::path ToPath(const QString& s) { return std::filesystem::path(s.toStdString()); }

}  // namespace animerun::widgets
