package ftp

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps words of FTP greetings to server software, most
// specific first. Each needle matches as whole words, ignoring case.
var knownSoftware = []plaintext.Software{
	{Needle: "vsftpd", Name: "vsftpd"},
	{Needle: "proftpd", Name: "ProFTPD"},
	{Needle: "pure-ftpd", Name: "Pure-FTPd"},
	{Needle: "filezilla server", Name: "FileZilla Server"},
	{Needle: "microsoft ftp service", Name: "Microsoft IIS FTP"},
	{Needle: "serv-u", Name: "Serv-U"},
	{Needle: "wu-ftpd", Name: "wu-ftpd"},
	{Needle: "glftpd", Name: "glFTPd"},
	{Needle: "crushftp", Name: "CrushFTP"},
	{Needle: "gene6", Name: "Gene6 FTP Server"},
	{Needle: "titan ftp server", Name: "Titan FTP Server"},
	{Needle: "cerberus ftp server", Name: "Cerberus FTP Server"},
	{Needle: "bftpd", Name: "bftpd"},
	{Needle: "pyftpdlib", Name: "pyftpdlib"},
}

// guessSoftware names the server software a banner reveals, or "".
func guessSoftware(banner string) string {
	return plaintext.GuessSoftware(knownSoftware, banner)
}
