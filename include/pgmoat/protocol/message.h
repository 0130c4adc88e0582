// Message type bytes and codes of the PostgreSQL v3.0 protocol, named as in the
// PostgreSQL documentation ("Message Formats").
#pragma once

#include <cstdint>

namespace pgmoat::protocol {

// Frontend (client to server) message types.
namespace frontend {
inline constexpr char Bind = 'B';
inline constexpr char Close = 'C';
inline constexpr char CopyData = 'd';
inline constexpr char CopyDone = 'c';
inline constexpr char CopyFail = 'f';
inline constexpr char Describe = 'D';
inline constexpr char Execute = 'E';
inline constexpr char Flush = 'H';
inline constexpr char FunctionCall = 'F';
inline constexpr char Parse = 'P';
inline constexpr char PasswordMessage = 'p';  // also SASLInitialResponse and SASLResponse
inline constexpr char Query = 'Q';
inline constexpr char Sync = 'S';
inline constexpr char Terminate = 'X';
}  // namespace frontend

// Backend (server to client) message types.
namespace backend {
inline constexpr char Authentication = 'R';
inline constexpr char BackendKeyData = 'K';
inline constexpr char BindComplete = '2';
inline constexpr char CloseComplete = '3';
inline constexpr char CommandComplete = 'C';
inline constexpr char CopyData = 'd';
inline constexpr char CopyDone = 'c';
inline constexpr char CopyInResponse = 'G';
inline constexpr char CopyOutResponse = 'H';
inline constexpr char CopyBothResponse = 'W';
inline constexpr char DataRow = 'D';
inline constexpr char EmptyQueryResponse = 'I';
inline constexpr char ErrorResponse = 'E';
inline constexpr char FunctionCallResponse = 'V';
inline constexpr char NegotiateProtocolVersion = 'v';
inline constexpr char NoData = 'n';
inline constexpr char NoticeResponse = 'N';
inline constexpr char NotificationResponse = 'A';
inline constexpr char ParameterDescription = 't';
inline constexpr char ParameterStatus = 'S';
inline constexpr char ParseComplete = '1';
inline constexpr char PortalSuspended = 's';
inline constexpr char ReadyForQuery = 'Z';
inline constexpr char RowDescription = 'T';
}  // namespace backend

// Authentication request codes carried in an Authentication ('R') message.
namespace auth_request {
inline constexpr int32_t Ok = 0;
inline constexpr int32_t KerberosV5 = 2;
inline constexpr int32_t CleartextPassword = 3;
inline constexpr int32_t MD5Password = 5;
inline constexpr int32_t GSS = 7;
inline constexpr int32_t GSSContinue = 8;
inline constexpr int32_t SSPI = 9;
inline constexpr int32_t SASL = 10;
inline constexpr int32_t SASLContinue = 11;
inline constexpr int32_t SASLFinal = 12;
}  // namespace auth_request

// Codes in the version field of untyped startup-phase packets.
inline constexpr int32_t kProtocolVersion3 = 3 << 16;
inline constexpr int32_t kCancelRequestCode = (1234 << 16) | 5678;
inline constexpr int32_t kSSLRequestCode = (1234 << 16) | 5679;
inline constexpr int32_t kGSSENCRequestCode = (1234 << 16) | 5680;

// PostgreSQL caps startup packets at this size (MAX_STARTUP_PACKET_LENGTH).
inline constexpr uint32_t kMaxStartupPacketBytes = 10000;

}  // namespace pgmoat::protocol
